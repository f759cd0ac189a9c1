package scim

import (
	"fmt"
	"strings"

	"github.com/rosterhq/roster/core"
)

// The SCIM door's mapping of the user attribute schema (core.UserSchema):
// each document attribute with a SCIM path is parsed from and rendered to
// that path, multi-valued ones with their type, primary and display (and an
// address's parts) as sent, so that what an IdP sends comes back as sent.

// scimPath splits a schema attribute's SCIM path into the object that holds
// it ("" for the resource itself, "name", or an extension URN) and its key.
func scimPath(p string) (obj, key string) {
	if strings.HasPrefix(p, "urn:") {
		i := strings.LastIndex(p, ":")
		return p[:i], p[i+1:]
	}
	if o, k, ok := strings.Cut(p, "."); ok {
		return o, k
	}
	return "", p
}

// scimPart is the SCIM name of a multi-valued attribute's part
// (street_address → streetAddress).
func scimPart(api string) string {
	var b strings.Builder
	up := false
	for _, r := range api {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = []rune(strings.ToUpper(string(r)))[0]
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// docAttributes are the document attributes SCIM carries, with their paths.
var docAttributes = func() []*core.Attribute {
	var out []*core.Attribute
	for _, def := range core.DocumentAttributes() {
		if def.SCIM != "" {
			out = append(out, def)
		}
	}
	return out
}()

// renderAttributes writes u's document attributes into the SCIM document m
// (objects "name" and the enterprise extension are created as needed).
func renderAttributes(m map[string]any, attrs core.Attributes) {
	for _, def := range docAttributes {
		v, ok := attrs[def.Name]
		if !ok {
			continue
		}
		obj, key := scimPath(def.SCIM)
		holder := m
		if obj != "" {
			o, _ := m[obj].(map[string]any)
			if o == nil {
				o = map[string]any{}
				m[obj] = o
			}
			holder = o
		}
		if def.Kind != core.KindMulti {
			if v.Str != "" {
				holder[key] = v.Str
			}
			continue
		}
		if len(v.List) == 0 {
			continue
		}
		items := make([]any, 0, len(v.List))
		for _, mv := range v.List {
			it := map[string]any{}
			if mv.Value != "" {
				it["value"] = mv.Value
			}
			if mv.Type != "" {
				it["type"] = mv.Type
			}
			if mv.Primary {
				it["primary"] = true
			}
			if mv.Display != "" {
				it["display"] = mv.Display
			}
			for _, part := range def.Parts {
				if pv := mv.Parts[part]; pv != "" {
					it[scimPart(part)] = pv
				}
			}
			items = append(items, it)
		}
		holder[key] = items
	}
}

// parseAttributes reads the document attributes of a SCIM user document.
// A refusal names the SCIM path.
func parseAttributes(m map[string]any) (core.Attributes, error) {
	var out core.Attributes
	for _, def := range docAttributes {
		obj, key := scimPath(def.SCIM)
		holder := m
		path := def.SCIM
		if obj != "" {
			o, err := getObject(m, obj, obj)
			if err != nil {
				return nil, err
			}
			if o == nil {
				continue
			}
			holder = o
			if strings.HasPrefix(obj, "urn:") {
				path = obj + ":" + key
			}
		}
		if def.Kind != core.KindMulti {
			s, err := getString(holder, key, path)
			if err != nil {
				return nil, err
			}
			out.SetStr(def.Name, s)
			continue
		}
		if def.Name == core.AttrNameRoles {
			l, err := parseRoles(holder, path)
			if err != nil {
				return nil, err
			}
			out.SetList(def.Name, l)
			continue
		}
		items, err := getList(holder, key, path)
		if err != nil {
			return nil, err
		}
		var l []core.MultiValue
		for i, it := range items {
			at := fmt.Sprintf("%s[%d]", path, i)
			var mv core.MultiValue
			if mv.Value, err = getString(it, "value", at+".value"); err != nil {
				return nil, err
			}
			if mv.Type, err = getString(it, "type", at+".type"); err != nil {
				return nil, err
			}
			if mv.Display, err = getString(it, "display", at+".display"); err != nil {
				return nil, err
			}
			if p, ok := get(it, "primary"); ok {
				if mv.Primary, err = asBool(p, at+".primary"); err != nil {
					return nil, err
				}
			}
			for _, part := range def.Parts {
				pv, err := getString(it, scimPart(part), at+"."+scimPart(part))
				if err != nil {
					return nil, err
				}
				if pv != "" {
					if mv.Parts == nil {
						mv.Parts = map[string]string{}
					}
					mv.Parts[part] = pv
				}
			}
			l = append(l, mv)
		}
		out.SetList(def.Name, l)
	}
	return out, nil
}

// parseRoles reads SCIM roles: objects with a value (and type, display,
// primary), or bare strings, which some clients send.
func parseRoles(m map[string]any, path string) ([]core.MultiValue, error) {
	v, ok := get(m, "roles")
	if !ok {
		return nil, nil
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	var out []core.MultiValue
	for i, it := range items {
		switch r := it.(type) {
		case string:
			out = append(out, core.MultiValue{Value: r})
		case map[string]any:
			at := fmt.Sprintf("%s[%d]", path, i)
			var mv core.MultiValue
			var err error
			if mv.Value, err = getString(r, "value", at+".value"); err != nil {
				return nil, err
			}
			if mv.Type, err = getString(r, "type", at+".type"); err != nil {
				return nil, err
			}
			if mv.Display, err = getString(r, "display", at+".display"); err != nil {
				return nil, err
			}
			if p, ok := get(r, "primary"); ok {
				if mv.Primary, err = asBool(p, at+".primary"); err != nil {
					return nil, err
				}
			}
			out = append(out, mv)
		default:
			return nil, fieldErr("roles", "element %d must be an object with a value, not %s", i, jsonType(it))
		}
	}
	return out, nil
}
