package scim

import (
	"fmt"
	"regexp"
	"strings"

	scimerr "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"
)

// PATCH (RFC 7644 §3.5.2) applied to a resource document, with the quirks
// of real identity providers: op in any case, path-less operations whose
// keys are dotted paths or extension URNs, value filters on multi-valued
// attributes that create the element when missing, and "remove" with a
// value list that removes only those values.

// attrInfo describes one attribute for PATCH and projections.
type attrInfo struct {
	name     string // canonical name
	multi    bool
	complex  bool
	readOnly bool
}

// docSchema lists a resource's attributes by schema URN ("" = core).
type docSchema struct {
	resource string
	attrs    map[string]map[string]attrInfo // lower URN → lower name → info
	urns     []string                       // extension URNs, canonical
}

func newDocSchema(resource string, defs map[string][]attrInfo) docSchema {
	ds := docSchema{resource: resource, attrs: map[string]map[string]attrInfo{}}
	for urn, list := range defs {
		m := map[string]attrInfo{}
		for _, a := range list {
			m[strings.ToLower(a.name)] = a
		}
		ds.attrs[strings.ToLower(urn)] = m
		if urn != "" {
			ds.urns = append(ds.urns, urn)
		}
	}
	return ds
}

var commonAttrs = []attrInfo{{name: "id", readOnly: true}, {name: "externalId"}, {name: "meta", complex: true, readOnly: true}, {name: "schemas", multi: true, readOnly: true}}

// userDocSchema includes the RFC 7643 attributes roster does not keep
// (addresses, locale, …): PATCHes to them are accepted and have no effect,
// so that an IdP's default attribute mapping does not stop provisioning.
var userDocSchema = newDocSchema("User", map[string][]attrInfo{
	"": append([]attrInfo{
		{name: "userName"}, {name: "name", complex: true}, {name: "displayName"}, {name: "nickName"}, {name: "profileUrl"},
		{name: "title"}, {name: "userType"}, {name: "preferredLanguage"}, {name: "locale"}, {name: "timezone"}, {name: "active"},
		{name: "password"}, {name: "emails", multi: true, complex: true}, {name: "phoneNumbers", multi: true, complex: true},
		{name: "ims", multi: true, complex: true}, {name: "photos", multi: true, complex: true}, {name: "addresses", multi: true, complex: true},
		{name: "groups", multi: true, complex: true, readOnly: true}, {name: "entitlements", multi: true, complex: true},
		{name: "roles", multi: true, complex: true}, {name: "x509Certificates", multi: true, complex: true},
	}, commonAttrs...),
	URNEnterprise: {{name: "employeeNumber"}, {name: "costCenter"}, {name: "organization"}, {name: "division"}, {name: "department"},
		{name: "manager", complex: true}},
	URNRoster: {{name: "role"}, {name: "canCreateApps"}, {name: "metadata", multi: true, complex: true},
		{name: "status", readOnly: true}, {name: "inviteStatus", readOnly: true}},
})

var groupDocSchema = newDocSchema("Group", map[string][]attrInfo{
	"": append([]attrInfo{{name: "displayName"}, {name: "members", multi: true, complex: true}}, commonAttrs...),
})

// patchOp is one validated operation.
type patchOp struct {
	op    string // add, remove, replace
	path  string
	value any
}

// parsePatch validates a PatchOp request body.
func parsePatch(m map[string]any) ([]patchOp, error) {
	if err := checkSchemas(m, URNPatchOp); err != nil {
		return nil, err
	}
	v, ok := get(m, "Operations")
	if !ok {
		return nil, badRequest(scimerr.ScimTypeInvalidSyntax, "Operations: is required")
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, badRequest(scimerr.ScimTypeInvalidSyntax, "Operations: must be a non-empty array")
	}
	if len(list) > 10000 {
		return nil, badRequest(scimerr.ScimTypeTooMany, "Operations: at most 10000 operations per request")
	}
	ops := make([]patchOp, 0, len(list))
	for i, it := range list {
		o, ok := it.(map[string]any)
		if !ok {
			return nil, badRequest(scimerr.ScimTypeInvalidSyntax, "Operations[%d]: must be an object", i)
		}
		opv, _ := get(o, "op")
		op, _ := opv.(string)
		op = strings.ToLower(strings.TrimSpace(op))
		if op != "add" && op != "remove" && op != "replace" {
			return nil, badRequest(scimerr.ScimTypeInvalidSyntax, "Operations[%d].op: %s is not add, remove or replace", i, literal(opv))
		}
		path, err := getString(o, "path", fmt.Sprintf("Operations[%d].path", i))
		if err != nil {
			return nil, badRequest(scimerr.ScimTypeInvalidPath, "Operations[%d].path: must be a string", i)
		}
		path = strings.TrimSpace(path)
		val, hasVal := get(o, "value")
		switch {
		case op == "remove" && path == "":
			return nil, badRequest(scimerr.ScimTypeNoTarget, "Operations[%d]: remove needs a path", i)
		case op != "remove" && !hasVal:
			return nil, badRequest(scimerr.ScimTypeInvalidValue, "Operations[%d]: %s needs a value", i, op)
		case op != "remove" && path == "":
			if _, ok := val.(map[string]any); !ok {
				return nil, badRequest(scimerr.ScimTypeInvalidValue, "Operations[%d]: %s without a path needs an object value", i, op)
			}
		}
		ops = append(ops, patchOp{op: op, path: path, value: val})
	}
	return ops, nil
}

// target is a resolved PATCH path.
type target struct {
	urn      string // canonical extension URN, "" for core
	info     attrInfo
	sub      string            // attr.sub
	filter   filter.Expression // attr[filter]
	valueSub string            // attr[filter].valueSub
	whole    bool              // the path is an extension URN: the whole extension object
	raw      string
}

func (ds docSchema) canonicalURN(uri string) (string, bool) {
	if uri == "" {
		return "", true
	}
	for _, u := range ds.urns {
		if strings.EqualFold(u, uri) {
			return u, true
		}
	}
	if ds.resource == "User" && strings.EqualFold(uri, URNUser) || ds.resource == "Group" && strings.EqualFold(uri, URNGroup) {
		return "", true
	}
	return "", false
}

func (ds docSchema) resolve(raw string) (target, error) {
	t := target{raw: raw}
	if u, ok := ds.canonicalURN(raw); ok && u != "" {
		t.urn, t.whole = u, true
		return t, nil
	}
	p, err := parsePath(raw)
	if err != nil {
		return t, badRequest(scimerr.ScimTypeInvalidPath, "path %q is not a valid SCIM path", raw)
	}
	urn, ok := ds.canonicalURN(p.AttributePath.URI())
	if !ok {
		return t, badRequest(scimerr.ScimTypeInvalidPath, "path %q: unknown schema %q", raw, p.AttributePath.URI())
	}
	name := strings.ToLower(p.AttributePath.AttributeName)
	info, found := ds.attrs[strings.ToLower(urn)][name]
	if !found && urn == "" {
		// An extension attribute without its URN: accept when unambiguous.
		for _, u := range ds.urns {
			if i, ok := ds.attrs[strings.ToLower(u)][name]; ok {
				urn, info, found = u, i, true
				break
			}
		}
	}
	if !found {
		return t, badRequest(scimerr.ScimTypeInvalidPath, "path %q: %s has no attribute %q", raw, ds.resource, p.AttributePath.AttributeName)
	}
	if info.readOnly {
		return t, badRequest(scimerr.ScimTypeMutability, "path %q: %s is read-only", raw, info.name)
	}
	t.urn, t.info = urn, info
	t.sub = p.AttributePath.SubAttributeName()
	t.filter = p.ValueExpression
	t.valueSub = p.SubAttributeName()
	if (t.sub != "" || t.valueSub != "") && !info.complex {
		return t, badRequest(scimerr.ScimTypeInvalidPath, "path %q: %s has no sub-attributes", raw, info.name)
	}
	if t.filter != nil && !info.multi {
		return t, badRequest(scimerr.ScimTypeInvalidPath, "path %q: a value filter needs a multi-valued attribute", raw)
	}
	return t, nil
}

// parsePath parses a PATCH path (RFC 7644 §3.5.2: attrPath, or
// attrPath "[" valFilter "]" ["." subAttr]). The value filter takes the whole
// filter grammar (any number of and/or/not terms, parentheses): it is parsed
// by the filter parser, whose own path grammar stops at two terms.
func parsePath(raw string) (filter.Path, error) {
	open := strings.IndexByte(raw, '[')
	if open < 0 {
		return filter.ParsePath([]byte(raw))
	}
	closeAt, inStr := -1, false
	for i := open + 1; i < len(raw) && closeAt < 0; i++ {
		switch c := raw[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && c == ']':
			closeAt = i
		}
	}
	if closeAt < 0 {
		return filter.Path{}, fmt.Errorf("unclosed [")
	}
	ap, err := filter.ParseAttrPath([]byte(raw[:open]))
	if err != nil {
		return filter.Path{}, err
	}
	if ap.SubAttribute != nil {
		return filter.Path{}, fmt.Errorf("a value filter follows an attribute, not a sub-attribute")
	}
	inner := strings.TrimSpace(raw[open+1 : closeAt])
	exp, err := filter.ParseFilter([]byte(inner))
	if err != nil {
		if exp, err = filter.ParseFilter([]byte(lowerOperators(inner))); err != nil {
			return filter.Path{}, err
		}
	}
	p := filter.Path{AttributePath: ap, ValueExpression: exp}
	switch rest := raw[closeAt+1:]; {
	case rest == "":
	case strings.HasPrefix(rest, ".") && simpleName.MatchString(rest[1:]):
		sub := rest[1:]
		p.SubAttribute = &sub
	default:
		return filter.Path{}, fmt.Errorf("unexpected %q after the value filter", rest)
	}
	return p, nil
}

var simpleName = regexp.MustCompile(`^[A-Za-z$][A-Za-z0-9_$-]*$`)

// applyPatch applies operations in order to doc.
func applyPatch(doc map[string]any, ops []patchOp, ds docSchema) error {
	for i, op := range ops {
		if err := applyOne(doc, op, ds); err != nil {
			if e, ok := err.(*Error); ok {
				e.Detail = fmt.Sprintf("Operations[%d]: %s", i, e.Detail)
			}
			return err
		}
	}
	return nil
}

func applyOne(doc map[string]any, op patchOp, ds docSchema) error {
	if op.path == "" {
		// Split {"a": 1, "name.givenName": "x", "urn:…:User": {…}} into one
		// operation per key.
		for k, v := range op.value.(map[string]any) {
			switch {
			case strings.EqualFold(k, "schemas"), strings.EqualFold(k, "meta"):
				continue
			case strings.EqualFold(k, "id"):
				if id, _ := get(doc, "id"); v != id {
					return badRequest(scimerr.ScimTypeMutability, "id is read-only")
				}
				continue
			}
			if u, ok := ds.canonicalURN(k); ok && u != "" {
				if ext, ok := v.(map[string]any); ok {
					for k2, v2 := range ext {
						if err := applyOne(doc, patchOp{op: op.op, path: u + ":" + k2, value: v2}, ds); err != nil {
							return err
						}
					}
					continue
				}
			}
			if err := applyOne(doc, patchOp{op: op.op, path: k, value: v}, ds); err != nil {
				return err
			}
		}
		return nil
	}
	t, err := ds.resolve(op.path)
	if err != nil {
		return err
	}
	if ds.resource == "User" && t.urn == "" && strings.EqualFold(t.info.name, "password") {
		return errPassword()
	}
	c := doc
	if t.urn != "" {
		ext, _ := get(doc, t.urn)
		em, ok := ext.(map[string]any)
		if !ok {
			if op.op == "remove" {
				return nil
			}
			em = map[string]any{}
			set(doc, t.urn, em)
		}
		c = em
		if t.whole {
			switch op.op {
			case "remove":
				del(doc, t.urn)
			default:
				v, ok := op.value.(map[string]any)
				if !ok {
					return badRequest(scimerr.ScimTypeInvalidValue, "%s: must be an object", t.urn)
				}
				for k, x := range v {
					if err := applyOne(doc, patchOp{op: op.op, path: t.urn + ":" + k, value: x}, ds); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	name := t.info.name
	if t.filter != nil {
		return applyFiltered(c, name, t, op)
	}
	if t.sub != "" {
		if t.info.multi {
			items := elements(c, name)
			if len(items) == 0 && op.op != "remove" {
				set(c, name, []any{map[string]any{t.sub: op.value}})
				return nil
			}
			for _, it := range items {
				if op.op == "remove" {
					del(it, t.sub)
				} else {
					set(it, t.sub, op.value)
				}
			}
			return nil
		}
		obj, _ := get(c, name)
		om, ok := obj.(map[string]any)
		if !ok {
			if op.op == "remove" {
				return nil
			}
			om = map[string]any{}
			set(c, name, om)
		}
		if op.op == "remove" {
			del(om, t.sub)
		} else {
			set(om, t.sub, op.value)
		}
		return nil
	}
	switch op.op {
	case "remove":
		if t.info.multi && op.value != nil {
			// Entra: {"op":"Remove","path":"members","value":[{"value":"id"}]}
			// removes only those values.
			drop := map[string]bool{}
			for _, v := range asList(op.value) {
				if vm, ok := v.(map[string]any); ok {
					if s, ok := get(vm, "value"); ok {
						drop[strings.ToLower(fmt.Sprint(s))] = true
					}
				}
			}
			keep := []any{}
			for _, it := range elements(c, name) {
				if s, ok := get(it, "value"); ok && drop[strings.ToLower(fmt.Sprint(s))] {
					continue
				}
				keep = append(keep, it)
			}
			set(c, name, keep)
			return nil
		}
		del(c, name)
	case "add":
		if t.info.multi {
			cur := elements(c, name)
			out := make([]any, 0, len(cur))
			for _, it := range cur {
				out = append(out, it)
			}
			for _, v := range asList(op.value) {
				vm, ok := v.(map[string]any)
				if !ok {
					if t.info.complex {
						return badRequest(scimerr.ScimTypeInvalidValue, "%s: values must be objects, not %s", name, jsonType(v))
					}
					out = append(out, v)
					continue
				}
				if dup := sameValue(cur, vm); dup != nil {
					for k, x := range vm {
						set(dup, k, x)
					}
					continue
				}
				out = append(out, vm)
			}
			set(c, name, out)
			return nil
		}
		fallthrough
	case "replace":
		if t.info.complex && !t.info.multi {
			if vm, ok := op.value.(map[string]any); ok {
				obj, _ := get(c, name)
				om, ok := obj.(map[string]any)
				if !ok {
					om = map[string]any{}
				}
				for k, x := range vm {
					set(om, k, x)
				}
				set(c, name, om)
				return nil
			}
		}
		set(c, name, op.value)
	}
	return nil
}

// applyFiltered handles attr[filter] and attr[filter].sub paths.
func applyFiltered(c map[string]any, name string, t target, op patchOp) error {
	items := elements(c, name)
	var matched []map[string]any
	var rest []any
	for _, it := range items {
		ok, err := matches(it, t.filter)
		if err != nil {
			return badRequest(scimerr.ScimTypeInvalidPath, "path %q: %s", t.raw, err.Error())
		}
		if ok {
			matched = append(matched, it)
		} else {
			rest = append(rest, it)
		}
	}
	if op.op == "remove" {
		if t.valueSub != "" {
			for _, it := range matched {
				del(it, t.valueSub)
			}
			return nil
		}
		if rest == nil {
			rest = []any{}
		}
		set(c, name, rest)
		return nil
	}
	if len(matched) == 0 {
		// Entra: emails[type eq "work"].value creates the element when missing.
		el := eqTerms(t.filter)
		if el == nil {
			return badRequest(scimerr.ScimTypeNoTarget, "path %q matches no value, and its filter does not say how to create one", t.raw)
		}
		if t.valueSub != "" {
			el[t.valueSub] = op.value
		} else if vm, ok := op.value.(map[string]any); ok {
			for k, x := range vm {
				set(el, k, x)
			}
		} else {
			return badRequest(scimerr.ScimTypeInvalidValue, "path %q: the value must be an object", t.raw)
		}
		out := make([]any, 0, len(items)+1)
		for _, it := range items {
			out = append(out, it)
		}
		set(c, name, append(out, el))
		return nil
	}
	for _, it := range matched {
		if t.valueSub != "" {
			set(it, t.valueSub, op.value)
			continue
		}
		vm, ok := op.value.(map[string]any)
		if !ok {
			return badRequest(scimerr.ScimTypeInvalidValue, "path %q: the value must be an object", t.raw)
		}
		for k, x := range vm {
			set(it, k, x)
		}
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// elements returns the objects of a multi-valued attribute.
func elements(c map[string]any, name string) []map[string]any {
	v, _ := get(c, name)
	var out []map[string]any
	for _, it := range asList(v) {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func sameValue(items []map[string]any, v map[string]any) map[string]any {
	want, ok := get(v, "value")
	if !ok {
		return nil
	}
	for _, it := range items {
		if have, ok := get(it, "value"); ok && strings.EqualFold(fmt.Sprint(have), fmt.Sprint(want)) {
			return it
		}
	}
	return nil
}

// eqTerms builds a new element from a filter made only of "x eq v" terms
// joined by and; nil for any other filter.
func eqTerms(e filter.Expression) map[string]any {
	out := map[string]any{}
	var walk func(e filter.Expression) bool
	walk = func(e filter.Expression) bool {
		switch x := e.(type) {
		case *filter.AttributeExpression:
			if !strings.EqualFold(string(x.Operator), "eq") {
				return false
			}
			out[x.AttributePath.AttributeName] = x.CompareValue
			return true
		case *filter.LogicalExpression:
			return strings.EqualFold(string(x.Operator), "and") && walk(x.Left) && walk(x.Right)
		}
		return false
	}
	if !walk(e) {
		return nil
	}
	return out
}

// matches evaluates a value filter on one element of a multi-valued
// attribute. Strings compare case-insensitively.
func matches(el map[string]any, e filter.Expression) (bool, error) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		l, err := matches(el, x.Left)
		if err != nil {
			return false, err
		}
		r, err := matches(el, x.Right)
		if err != nil {
			return false, err
		}
		if strings.EqualFold(string(x.Operator), "or") {
			return l || r, nil
		}
		return l && r, nil
	case *filter.NotExpression:
		ok, err := matches(el, x.Expression)
		return !ok, err
	case *filter.AttributeExpression:
		name := x.AttributePath.AttributeName
		if sub := x.AttributePath.SubAttributeName(); sub != "" {
			name = sub
		}
		have, present := get(el, name)
		op := strings.ToLower(string(x.Operator))
		if op == "pr" {
			return present && fmt.Sprint(have) != "", nil
		}
		if !present {
			return op == "ne", nil
		}
		if b, ok := have.(bool); ok {
			want, err := asBool(x.CompareValue, name)
			if err != nil {
				return false, err
			}
			switch op {
			case "eq":
				return b == want, nil
			case "ne":
				return b != want, nil
			}
			return false, fmt.Errorf("operator %s does not apply to %s", op, name)
		}
		hs, ws := strings.ToLower(fmt.Sprint(have)), strings.ToLower(fmt.Sprint(x.CompareValue))
		switch op {
		case "eq":
			return hs == ws, nil
		case "ne":
			return hs != ws, nil
		case "co":
			return strings.Contains(hs, ws), nil
		case "sw":
			return strings.HasPrefix(hs, ws), nil
		case "ew":
			return strings.HasSuffix(hs, ws), nil
		case "gt":
			return hs > ws, nil
		case "ge":
			return hs >= ws, nil
		case "lt":
			return hs < ws, nil
		case "le":
			return hs <= ws, nil
		}
		return false, fmt.Errorf("unknown operator %q", op)
	}
	return false, fmt.Errorf("unsupported value filter")
}

// ---- attributes / excludedAttributes (RFC 7644 §3.9) ----

type projection struct {
	include map[string]map[string]bool // top-level key (lower, URN-qualified for extensions) → sub-attributes (nil: whole)
	exclude map[string]map[string]bool
}

func newProjection(attrs, excluded []string, ds docSchema) (*projection, error) {
	parse := func(list []string, param string) (map[string]map[string]bool, error) {
		if len(list) == 0 {
			return nil, nil
		}
		out := map[string]map[string]bool{}
		for _, a := range list {
			if u, ok := ds.canonicalURN(a); ok && u != "" {
				out[strings.ToLower(u)] = nil
				continue
			}
			p, err := filter.ParseAttrPath([]byte(a))
			if err != nil {
				return nil, badRequest(scimerr.ScimTypeInvalidValue, "%s: %q is not an attribute path", param, a)
			}
			urn, ok := ds.canonicalURN(p.URI())
			if !ok {
				return nil, badRequest(scimerr.ScimTypeInvalidValue, "%s: unknown schema in %q", param, a)
			}
			key := strings.ToLower(p.AttributeName)
			if urn != "" {
				key = strings.ToLower(urn) + ":" + key
			}
			sub := strings.ToLower(p.SubAttributeName())
			if sub == "" {
				out[key] = nil
				continue
			}
			if subs, ok := out[key]; !ok || subs != nil {
				if subs == nil {
					subs = map[string]bool{}
				}
				subs[sub] = true
				out[key] = subs
			}
		}
		return out, nil
	}
	inc, err := parse(attrs, "attributes")
	if err != nil {
		return nil, err
	}
	exc, err := parse(excluded, "excludedAttributes")
	if err != nil {
		return nil, err
	}
	return &projection{include: inc, exclude: exc}, nil
}

// wants reports whether a top-level attribute is returned (for skipping
// expensive work such as loading group members).
func (p *projection) wants(name string) bool {
	k := strings.ToLower(name)
	if p.include != nil {
		_, ok := p.include[k]
		return ok
	}
	if p.exclude != nil {
		if subs, ok := p.exclude[k]; ok && subs == nil {
			return false
		}
	}
	return true
}

func (p *projection) apply(doc map[string]any) map[string]any {
	if p.include == nil && p.exclude == nil {
		return doc
	}
	always := map[string]bool{"id": true, "schemas": true}
	out := map[string]any{}
	for k, v := range doc {
		lk := strings.ToLower(k)
		if always[lk] {
			out[k] = v
			continue
		}
		if ext, ok := v.(map[string]any); ok && strings.HasPrefix(lk, "urn:") {
			sub := map[string]any{}
			for k2, v2 := range ext {
				if val, keep := p.pick(lk+":"+strings.ToLower(k2), v2, lk); keep {
					sub[k2] = val
				}
			}
			if len(sub) > 0 {
				out[k] = sub
			}
			continue
		}
		if val, keep := p.pick(lk, v, ""); keep {
			out[k] = val
		}
	}
	return out
}

// pick decides one attribute; parent is the extension URN it sits in.
func (p *projection) pick(key string, v any, parent string) (any, bool) {
	if p.include != nil {
		if parent != "" {
			if subs, ok := p.include[parent]; ok && subs == nil {
				return v, true
			}
		}
		subs, ok := p.include[key]
		if !ok {
			return nil, false
		}
		if subs == nil {
			return v, true
		}
		return filterSubs(v, func(s string) bool { return subs[s] }), true
	}
	if parent != "" {
		if subs, ok := p.exclude[parent]; ok && subs == nil {
			return nil, false
		}
	}
	subs, ok := p.exclude[key]
	if !ok {
		return v, true
	}
	if subs == nil {
		return nil, false
	}
	return filterSubs(v, func(s string) bool { return !subs[s] }), true
}

func filterSubs(v any, keep func(string) bool) any {
	one := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, x := range m {
			if keep(strings.ToLower(k)) {
				out[k] = x
			}
		}
		return out
	}
	switch x := v.(type) {
	case map[string]any:
		return one(x)
	case []any:
		out := make([]any, 0, len(x))
		for _, it := range x {
			if m, ok := it.(map[string]any); ok {
				out = append(out, one(m))
			} else {
				out = append(out, it)
			}
		}
		return out
	}
	return v
}
