package scim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	scimerr "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/core"
)

// resourceAttrs maps SCIM attribute paths (lower-case, with the schema URN
// for extension attributes) to the core attributes a filter or sort may use.
type resourceAttrs struct {
	name  string
	core  string // the core schema URN
	exts  []string
	attrs map[string]core.FilterAttr
}

var userAttrs = resourceAttrs{
	name: "User", core: URNUser, exts: []string{URNEnterprise, URNRoster},
	attrs: func() map[string]core.FilterAttr {
		m := map[string]core.FilterAttr{
			"username":          core.AttrUsername,
			"externalid":        core.AttrExternalID,
			"id":                core.AttrID,
			"emails":            core.AttrEmail,
			"emails.value":      core.AttrEmail, // and the other emails: see compare
			"name.givenname":    core.AttrFirstName,
			"name.familyname":   core.AttrLastName,
			"displayname":       core.AttrDisplayName,
			"active":            core.AttrActive,
			"meta.created":      core.AttrCreated,
			"meta.lastmodified": core.AttrUpdated,
			strings.ToLower(URNEnterprise) + ":manager":       core.AttrManager,
			strings.ToLower(URNEnterprise) + ":manager.value": core.AttrManager,
		}
		// Every searchable document attribute of the schema, at its SCIM path.
		for _, def := range docAttributes {
			if !def.Search {
				continue
			}
			obj, key := scimPath(def.SCIM)
			path := strings.ToLower(key)
			if obj != "" {
				sep := "."
				if strings.HasPrefix(obj, "urn:") {
					sep = ":"
				}
				path = strings.ToLower(obj) + sep + path
			}
			if def.Kind != core.KindMulti {
				m[path] = core.FilterAttr(def.Name)
				continue
			}
			if _, ok := m[path+".value"]; !ok {
				m[path] = core.FilterAttr(def.Name + ".value")
				m[path+".value"] = core.FilterAttr(def.Name + ".value")
			}
			m[path+".type"] = core.FilterAttr(def.Name + ".type")
			for _, part := range def.Parts {
				m[path+"."+strings.ToLower(scimPart(part))] = core.FilterAttr(def.Name + "." + part)
			}
		}
		return m
	}(),
}

var groupAttrs = resourceAttrs{
	name: "Group", core: URNGroup,
	attrs: map[string]core.FilterAttr{
		"id":                core.AttrGroupID,
		"displayname":       core.AttrGroupName,
		"externalid":        core.AttrGroupExternalID,
		"members":           core.AttrGroupMember,
		"members.value":     core.AttrGroupMember,
		"meta.created":      core.AttrGroupCreated,
		"meta.lastmodified": core.AttrGroupUpdated,
	},
}

// key normalises an attribute path: lower-case, core URN dropped, an
// extension attribute without its URN given its URN.
func (ra resourceAttrs) key(p filter.AttributePath) string {
	name := p.AttributeName
	if sub := p.SubAttributeName(); sub != "" {
		name += "." + sub
	}
	name = strings.ToLower(name)
	uri := strings.ToLower(p.URI())
	if uri == "" || uri == strings.ToLower(ra.core) {
		if _, ok := ra.attrs[name]; ok {
			return name
		}
		for _, e := range ra.exts {
			if _, ok := ra.attrs[strings.ToLower(e)+":"+name]; ok {
				return strings.ToLower(e) + ":" + name
			}
		}
		return name
	}
	return uri + ":" + name
}

func (ra resourceAttrs) lookup(p filter.AttributePath) (core.FilterAttr, string, bool) {
	k := ra.key(p)
	a, ok := ra.attrs[k]
	return a, p.String(), ok
}

func invalidFilter(format string, args ...any) *Error {
	return badRequest(scimerr.ScimTypeInvalidFilter, "filter: "+format, args...)
}

// parseFilter turns a SCIM filter into a core filter, or a 400 invalidFilter
// naming what is wrong. It never falls back to scanning.
func parseFilter(raw string, ra resourceAttrs) (*core.Filter, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	if len(raw) > 4096 {
		return nil, invalidFilter("longer than 4096 characters")
	}
	exp, ok := simpleEq(raw)
	var err error
	if !ok {
		exp, err = filter.ParseFilter([]byte(raw))
	}
	if err != nil {
		// The parser wants lower-case operators; IdPs sometimes send "Eq".
		exp, err = filter.ParseFilter([]byte(lowerOperators(raw)))
		if err != nil {
			return nil, invalidFilter("%q is not a valid SCIM filter", raw)
		}
	}
	f, err := translate(exp, ra, nil)
	if err != nil {
		return nil, err
	}
	if err := core.ValidateFilter(f, coreAttrTypes(ra)); err != nil {
		return nil, err
	}
	return f, nil
}

func coreAttrTypes(ra resourceAttrs) map[core.FilterAttr]core.AttrType {
	if ra.name == "Group" {
		return core.GroupFilterAttrs
	}
	return core.UserFilterAttrs
}

// simpleEqRE matches the filter IdPs send most: attr eq "value" (no
// escapes). The general parser is slow; this form is built directly into the
// same syntax tree.
var simpleEqRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_$-]*(?:\.[A-Za-z][A-Za-z0-9_$-]*)?) +(?i:eq) +"([^"\\]*)"$`)

func simpleEq(raw string) (filter.Expression, bool) {
	m := simpleEqRE.FindStringSubmatch(raw)
	if m == nil {
		return nil, false
	}
	name, sub, _ := strings.Cut(m[1], ".")
	p := filter.AttributePath{AttributeName: name}
	if sub != "" {
		p.SubAttribute = &sub
	}
	return &filter.AttributeExpression{AttributePath: p, Operator: filter.EQ, CompareValue: m[2]}, true
}

var operatorWords = []string{"eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le", "and", "or", "not"}

// lowerOperators lower-cases operator keywords outside string literals.
func lowerOperators(s string) string {
	var b strings.Builder
	inStr := false
	word := strings.Builder{}
	flush := func() {
		w := word.String()
		for _, op := range operatorWords {
			if strings.EqualFold(w, op) {
				w = op
				break
			}
		}
		b.WriteString(w)
		word.Reset()
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			flush()
			inStr = true
			b.WriteByte(c)
		case c == ' ' || c == '(' || c == ')' || c == '[' || c == ']':
			flush()
			b.WriteByte(c)
		default:
			word.WriteByte(c)
		}
	}
	flush()
	return b.String()
}

// translate converts one parsed expression. parent is set inside a value
// path (emails[type eq "work"]), where attribute names are sub-attributes.
func translate(e filter.Expression, ra resourceAttrs, parent *filter.AttributePath) (*core.Filter, error) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		l, err := translate(x.Left, ra, parent)
		if err != nil {
			return nil, err
		}
		r, err := translate(x.Right, ra, parent)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(string(x.Operator), "or") {
			return core.Or(l, r), nil
		}
		return core.And(l, r), nil
	case *filter.NotExpression:
		f, err := translate(x.Expression, ra, parent)
		if err != nil {
			return nil, err
		}
		return core.Not(f), nil
	case *filter.ValuePath:
		if parent != nil {
			return nil, invalidFilter("nested value paths are not supported")
		}
		p := x.AttributePath
		return translate(x.ValueFilter, ra, &p)
	case *filter.AttributeExpression:
		p := x.AttributePath
		if parent != nil {
			sub := p.AttributeName
			p = filter.AttributePath{URIPrefix: parent.URIPrefix, AttributeName: parent.AttributeName, SubAttribute: &sub}
		}
		return compare(p, filter.CompareOperator(strings.ToLower(string(x.Operator))), x.CompareValue, ra)
	}
	return nil, invalidFilter("unsupported expression")
}

func compare(p filter.AttributePath, op filter.CompareOperator, v any, ra resourceAttrs) (*core.Filter, error) {
	k := ra.key(p)
	// The primary email is the column (what userName-like look-ups of IdPs
	// use, indexed); the others are in the search index.
	if ra.name == "User" && k == "emails.primary" {
		return emailMeta(k, op, v)
	}
	// A user without an emails list (from another door) has its one email
	// rendered as type work: emails.type eq "work" finds it too.
	if ra.name == "User" && k == "emails.type" && op == filter.EQ {
		if t, ok := v.(string); ok && strings.EqualFold(t, "work") {
			noList := core.And(core.Cmp(core.AttrEmail, core.OpPresent, ""), core.Not(core.Cmp(core.AttrEmails, core.OpPresent, "")))
			return core.Or(core.Cmp("emails.type", core.OpEq, t), noList), nil
		}
	}
	if ra.name == "User" && (k == "emails.value" || k == "emails") && op != filter.PR {
		s, ok := v.(string)
		if !ok {
			return nil, invalidFilter("%s compares with a string, not %s", p.String(), literal(v))
		}
		if op == filter.NE {
			return core.And(core.Cmp(core.AttrEmail, core.OpNe, s), core.Cmp(core.AttrEmails, core.OpNe, s)), nil
		}
		return core.Or(core.Cmp(core.AttrEmail, core.FilterOp(op), s), core.Cmp(core.AttrEmails, core.FilterOp(op), s)), nil
	}
	attr, name, ok := ra.lookup(p)
	if !ok {
		return nil, invalidFilter("attribute %q is not supported for %s filters (supported: %s)", name, ra.name, supportedList(ra))
	}
	cop := core.FilterOp(op)
	if op == filter.PR {
		return core.Cmp(attr, core.OpPresent, ""), nil
	}
	switch coreAttrTypes(ra)[attr] {
	case core.TypeBool:
		switch b := v.(type) {
		case bool:
			return core.Cmp(attr, cop, b), nil
		case string: // Entra sends "True"/"False"
			switch strings.ToLower(b) {
			case "true":
				return core.Cmp(attr, cop, true), nil
			case "false":
				return core.Cmp(attr, cop, false), nil
			}
		}
		return nil, invalidFilter("%s compares with true or false, not %s", name, literal(v))
	case core.TypeTime:
		s, ok := v.(string)
		if !ok {
			return nil, invalidFilter("%s compares with a date-time string, not %s", name, literal(v))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, invalidFilter("%s: %q is not an RFC 3339 date-time", name, s)
		}
		return core.Cmp(attr, cop, t), nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, invalidFilter("%s compares with a string, not %s", name, literal(v))
	}
	return core.Cmp(attr, cop, s), nil
}

func emailMeta(k string, op filter.CompareOperator, v any) (*core.Filter, error) {
	has := core.Cmp(core.AttrEmail, core.OpPresent, "")
	if op == filter.PR {
		return has, nil
	}
	if op != filter.EQ && op != filter.NE {
		return nil, invalidFilter("%s supports eq, ne and pr", k)
	}
	match := false
	switch k {
	case "emails.type":
		s, ok := v.(string)
		if !ok {
			return nil, invalidFilter("emails.type compares with a string")
		}
		match = strings.EqualFold(s, "work")
	case "emails.primary":
		b, ok := v.(bool)
		if !ok {
			return nil, invalidFilter("emails.primary compares with true or false")
		}
		match = b
	}
	if op == filter.NE {
		match = !match
	}
	if match {
		return has, nil
	}
	return &core.Filter{Kind: core.FilterFalse}, nil
}

func literal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func supportedList(ra resourceAttrs) string {
	if ra.name == "Group" {
		return "id, displayName, externalId, members.value, meta.created, meta.lastModified"
	}
	names := make([]string, 0, len(ra.attrs)+1)
	for k := range ra.attrs {
		names = append(names, k)
	}
	names = append(names, "emails.primary")
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// sortAttr resolves sortBy.
func sortAttr(raw string, ra resourceAttrs) (core.FilterAttr, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	p, err := filter.ParseAttrPath([]byte(raw))
	if err == nil {
		if a, _, ok := ra.lookup(p); ok && a != core.AttrActive && a != core.AttrGroupMember {
			return a, nil
		}
	}
	return "", badRequest(scimerr.ScimTypeInvalidValue, "sortBy: %q cannot be sorted on", raw)
}
