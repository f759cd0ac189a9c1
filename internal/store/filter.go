package store

import (
	"fmt"
	"strings"

	"github.com/rosterhq/roster/core"
)

// colKind says how a filterable column compares.
type colKind int

const (
	colFolded colKind = iota // a *_key column: the value is case-folded with core.FoldKey
	colExact                 // case-exact text
	colLower                 // text compared after lower()
	colTime                  // a timestamp
	colActive                // derived from status
	colMember                // group membership by user id
	colSearch                // a searchable attribute that is not a column: its folded values in user_search, through an indexed subquery
)

type colSpec struct {
	expr     string
	kind     colKind
	nullable bool // from a LEFT JOINed table
}

// userFilterCols maps filter attributes to columns of "users u", or to the
// search index (the schema's searchable document attributes, by API name,
// and their sub-attributes). Only these names ever reach the query text.
var userFilterCols = func() map[core.FilterAttr]colSpec {
	m := map[core.FilterAttr]colSpec{}
	for _, f := range core.SearchFields() {
		m[core.FilterAttr(f)] = colSpec{f, colSearch, false}
	}
	for k, v := range userColumnCols {
		m[k] = v
	}
	return m
}()

var userColumnCols = map[core.FilterAttr]colSpec{
	core.AttrUsername:    {"u.username_key", colFolded, false},
	core.AttrExternalID:  {"u.external_id", colExact, false},
	core.AttrID:          {"u.id", colExact, false},
	core.AttrEmail:       {"u.email_key", colFolded, false},
	core.AttrFirstName:   {"lower(u.first_name)", colLower, false},
	core.AttrLastName:    {"u.last_name_key", colFolded, false},
	core.AttrDisplayName: {"u.display_name_key", colFolded, false},
	core.AttrManager:     {"u.manager_id", colExact, false},
	core.AttrActive:      {"u.status", colActive, false},
	core.AttrCreated:     {"u.created_at", colTime, false},
	core.AttrUpdated:     {"u.updated_at", colTime, false},
}

var groupFilterCols = map[core.FilterAttr]colSpec{
	core.AttrGroupID:         {"g.id", colExact, false},
	core.AttrGroupName:       {"g.name_key", colFolded, false},
	core.AttrGroupExternalID: {"g.external_id", colExact, false},
	core.AttrGroupMember:     {"g.id", colMember, false},
	core.AttrGroupCreated:    {"g.created_at", colTime, false},
	core.AttrGroupUpdated:    {"g.updated_at", colTime, false},
}

// partialIndexed are the columns indexed only where not empty
// (users_org_external): an equality on a value says so, for the index to serve it.
var partialIndexed = map[string]bool{"u.external_id": true}

// activeStatuses are the statuses SCIM reports as active:true.
var activeStatuses = []any{string(core.StatusInvited), string(core.StatusActive), string(core.StatusLocked)}

// maxRune bounds "starts with" ranges: every string with prefix p sorts in [p, p+maxRune).
const maxRune = "\U0010FFFF"

// filterSQL translates a filter into a WHERE fragment with ? placeholders
// and its bound values. Attribute and operator names come from fixed tables;
// every value is a parameter.
func filterSQL(d *dialect, orgID string, f *core.Filter, cols map[core.FilterAttr]colSpec) (string, []any, error) {
	var args []any
	var walk func(f *core.Filter) (string, error)
	walk = func(f *core.Filter) (string, error) {
		switch f.Kind {
		case core.FilterTrue:
			return "1 = 1", nil
		case core.FilterFalse:
			return "1 = 0", nil
		case core.FilterNot:
			s, err := walk(f.Children[0])
			if err != nil {
				return "", err
			}
			return "NOT (" + s + ")", nil
		case core.FilterAnd, core.FilterOr:
			op := " AND "
			if f.Kind == core.FilterOr {
				op = " OR "
			}
			parts := make([]string, 0, len(f.Children))
			for _, c := range f.Children {
				s, err := walk(c)
				if err != nil {
					return "", err
				}
				parts = append(parts, "("+s+")")
			}
			return strings.Join(parts, op), nil
		case core.FilterCmp:
			spec, ok := cols[f.Attr]
			if !ok {
				return "", fmt.Errorf("filter attribute %q: %w", f.Attr, core.ErrInvalid)
			}
			s, a, err := cmpSQL(d, orgID, spec, f)
			if err != nil {
				return "", err
			}
			args = append(args, a...)
			return s, nil
		}
		return "", fmt.Errorf("filter node %d: %w", f.Kind, core.ErrInvalid)
	}
	if f == nil {
		return "1 = 1", nil, nil
	}
	s, err := walk(f)
	return s, args, err
}

func cmpSQL(d *dialect, orgID string, spec colSpec, f *core.Filter) (string, []any, error) {
	c := spec.expr
	switch spec.kind {
	case colActive:
		want := f.Bool
		switch f.Op {
		case core.OpPresent:
			return "1 = 1", nil, nil
		case core.OpNe:
			want = !want
		case core.OpEq:
		default:
			return "", nil, fmt.Errorf("operator %s on active: %w", f.Op, core.ErrInvalid)
		}
		if want {
			return c + " IN (?, ?, ?)", activeStatuses, nil
		}
		return c + " NOT IN (?, ?, ?)", activeStatuses, nil
	case colMember:
		if f.Op != core.OpEq {
			return "", nil, fmt.Errorf("operator %s on members: %w", f.Op, core.ErrInvalid)
		}
		return "EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = " + c + " AND m.user_id = ?)", []any{f.Str}, nil
	case colTime:
		if f.Op == core.OpPresent {
			return c + " IS NOT NULL", nil, nil
		}
		op, ok := orderOps[f.Op]
		if !ok {
			return "", nil, fmt.Errorf("operator %s on %s: %w", f.Op, f.Attr, core.ErrInvalid)
		}
		return c + " " + op + " ?", []any{f.Time.UTC()}, nil
	}
	if spec.kind == colSearch {
		// Users without a value lack the attribute: ne and not(…) match
		// them, which NOT IN gives; the subquery reads the index
		// (org_id, field, value_key, user_seq).
		in := "u.seq IN (SELECT user_seq FROM user_search WHERE org_id = ? AND field = ? AND "
		op := *f
		if f.Op == core.OpNe {
			in, op.Op = "u.seq NOT IN (SELECT user_seq FROM user_search WHERE org_id = ? AND field = ? AND ", core.OpEq
		}
		s, args, err := cmpSQL(d, orgID, colSpec{expr: "value_key", kind: colFolded}, &op)
		if err != nil {
			return "", nil, err
		}
		return in + s + ")", append([]any{orgID, c}, args...), nil
	}
	v := f.Str
	switch spec.kind {
	case colFolded:
		v = core.FoldKey(v)
	case colLower:
		v = strings.ToLower(v)
	}
	guard := func(s string) string {
		if spec.nullable {
			return "(" + s + " AND " + c + " IS NOT NULL)"
		}
		return s
	}
	switch f.Op {
	case core.OpEq:
		if partialIndexed[c] && v != "" {
			// Says what the partial index leaves out, so that it serves the filter.
			return guard("(" + c + " = ? AND " + c + " <> '')"), []any{v}, nil
		}
		return guard(c + " = ?"), []any{v}, nil
	case core.OpNe:
		if spec.nullable {
			return "(" + c + " IS NULL OR " + c + " <> ?)", []any{v}, nil
		}
		return c + " <> ?", []any{v}, nil
	case core.OpCo:
		return guard(d.contains(c)), []any{v}, nil
	case core.OpSw:
		return guard("(" + c + " >= ? AND " + c + " < ?)"), []any{v, v + maxRune}, nil
	case core.OpEw:
		if v == "" {
			return guard(c + " = " + c), nil, nil
		}
		s, a := d.endsWith(c, v)
		return guard(s), a, nil
	case core.OpPresent:
		return guard(c + " <> ''"), nil, nil
	}
	if op, ok := orderOps[f.Op]; ok {
		return guard(c + " " + op + " ?"), []any{v}, nil
	}
	return "", nil, fmt.Errorf("operator %q: %w", f.Op, core.ErrInvalid)
}

var orderOps = map[core.FilterOp]string{
	core.OpEq: "=", core.OpNe: "<>", core.OpGt: ">", core.OpGe: ">=", core.OpLt: "<", core.OpLe: "<=",
}

// sortSQL is the ORDER BY column of a sort attribute; seq/id break ties so
// that paging is stable.
func sortSQL(d *dialect, attr core.FilterAttr, cols map[core.FilterAttr]colSpec) (string, error) {
	if attr == "" {
		return "", nil
	}
	spec, ok := cols[attr]
	if ok && spec.kind == colSearch {
		// A single-valued document attribute sorts by its stored value
		// (unindexed: sorting reads every row the filter leaves).
		if def, isAttr := core.SchemaAttribute(string(attr)); isAttr && def.Kind != core.KindMulti {
			return d.jsonText("u.attributes", def.Name), nil
		}
		ok = false
	}
	if !ok || spec.kind == colMember {
		return "", fmt.Errorf("sort attribute %q: %w", attr, core.ErrInvalid)
	}
	return spec.expr, nil
}
