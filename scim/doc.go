package scim

import (
	"encoding/json"
	"strings"

	scimerr "github.com/elimity-com/scim/errors"
)

// Helpers over decoded JSON documents. SCIM attribute names are
// case-insensitive (RFC 7643 §2.1), so every lookup folds case.

// findKey returns the key of m that equals name case-insensitively.
func findKey(m map[string]any, name string) (string, bool) {
	if _, ok := m[name]; ok {
		return name, true
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

// get returns m[name] case-insensitively; JSON null counts as absent.
func get(m map[string]any, name string) (any, bool) {
	k, ok := findKey(m, name)
	if !ok || m[k] == nil {
		return nil, false
	}
	return m[k], true
}

// set stores v under name, reusing an existing key of another case.
func set(m map[string]any, name string, v any) {
	if k, ok := findKey(m, name); ok {
		m[k] = v
		return
	}
	m[name] = v
}

func del(m map[string]any, name string) {
	if k, ok := findKey(m, name); ok {
		delete(m, k)
	}
}

// fieldErr is a 400 naming the attribute.
func fieldErr(attr, format string, args ...any) *Error {
	return badRequest(scimerr.ScimTypeInvalidValue, attr+": "+format, args...)
}

// getString reads an optional string attribute.
func getString(m map[string]any, name, attr string) (string, error) {
	v, ok := get(m, name)
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fieldErr(attr, "must be a string, not %s", jsonType(v))
	}
	return s, nil
}

// getBool reads an optional boolean; Entra's "True"/"False" strings are accepted.
func getBool(m map[string]any, name, attr string) (*bool, error) {
	v, ok := get(m, name)
	if !ok {
		return nil, nil
	}
	b, err := asBool(v, attr)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

func asBool(v any, attr string) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fieldErr(attr, "must be true or false, not %s", literal(v))
}

func getObject(m map[string]any, name, attr string) (map[string]any, error) {
	v, ok := get(m, name)
	if !ok {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fieldErr(attr, "must be an object, not %s", jsonType(v))
	}
	return o, nil
}

// getList reads a multi-valued attribute; a single object is taken as a
// one-element list (some clients send that).
func getList(m map[string]any, name, attr string) ([]map[string]any, error) {
	v, ok := get(m, name)
	if !ok {
		return nil, nil
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		items = []any{x}
	default:
		return nil, fieldErr(attr, "must be an array of objects, not %s", jsonType(v))
	}
	out := make([]map[string]any, 0, len(items))
	for i, it := range items {
		o, ok := it.(map[string]any)
		if !ok {
			return nil, fieldErr(attr, "element %d must be an object, not %s", i, jsonType(it))
		}
		out = append(out, o)
	}
	return out, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unexpected value"
}

// checkSchemas requires the resource's core schema URN in "schemas";
// other URNs (extensions, vendor URNs such as Entra's) are allowed.
func checkSchemas(m map[string]any, want string) error {
	v, ok := get(m, "schemas")
	if !ok {
		return badRequest(scimerr.ScimTypeInvalidSyntax, "schemas: is required and must contain %q", want)
	}
	list, ok := v.([]any)
	if !ok {
		return badRequest(scimerr.ScimTypeInvalidSyntax, "schemas: must be an array of URNs")
	}
	for _, s := range list {
		str, ok := s.(string)
		if !ok {
			return badRequest(scimerr.ScimTypeInvalidSyntax, "schemas: must be an array of URNs")
		}
		if strings.EqualFold(str, want) {
			return nil
		}
	}
	return badRequest(scimerr.ScimTypeInvalidSyntax, "schemas: %s does not contain %q", literal(v), want)
}

// pickValue chooses the one value roster keeps of a multi-valued attribute:
// the primary one, else the one of type work, else the first.
func pickValue(items []map[string]any, attr string) (string, error) {
	if len(items) == 0 {
		return "", nil
	}
	best := -1
	for i, it := range items {
		if p, ok := get(it, "primary"); ok {
			if b, err := asBool(p, attr+".primary"); err != nil {
				return "", err
			} else if b {
				best = i
				break
			}
		}
	}
	if best < 0 {
		for i, it := range items {
			if t, _ := get(it, "type"); t != nil {
				if s, ok := t.(string); ok && strings.EqualFold(s, "work") {
					best = i
					break
				}
			}
		}
	}
	if best < 0 {
		best = 0
	}
	return getString(items[best], "value", attr+".value")
}
