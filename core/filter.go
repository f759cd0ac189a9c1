package core

import (
	"fmt"
	"strings"
	"time"
)

// FilterAttr names an attribute a Filter may test. Doors translate their own
// attribute names (SCIM's userName, the admin API's username) into these; the
// store translates them into indexed columns.
type FilterAttr string

// User attributes.
const (
	AttrUsername       FilterAttr = "username"
	AttrExternalID     FilterAttr = "external_id"
	AttrID             FilterAttr = "id"
	AttrEmail          FilterAttr = "email"
	AttrFirstName      FilterAttr = "first_name"
	AttrLastName       FilterAttr = "last_name"
	AttrDisplayName    FilterAttr = "display_name"
	AttrActive         FilterAttr = "active"
	AttrCreated        FilterAttr = "created_at"
	AttrUpdated        FilterAttr = "updated_at"
	AttrEmployeeNumber FilterAttr = "employee_number"
	AttrDepartment     FilterAttr = "department"
	AttrManager        FilterAttr = "manager_id"
	AttrEmails         FilterAttr = "emails.value" // every email in the emails list (the search index)
)

// Group attributes.
const (
	AttrGroupID         FilterAttr = "group.id"
	AttrGroupName       FilterAttr = "group.name"
	AttrGroupExternalID FilterAttr = "group.external_id"
	AttrGroupMember     FilterAttr = "group.member" // a member's user id
	AttrGroupCreated    FilterAttr = "group.created_at"
	AttrGroupUpdated    FilterAttr = "group.updated_at"
)

// AttrType is the type of a filterable attribute.
type AttrType int

const (
	TypeString AttrType = iota
	TypeBool
	TypeTime
)

// UserFilterAttrs are the user attributes a filter may test, with their
// types: the columns, and every field of the search index (SearchFields).
var UserFilterAttrs = func() map[FilterAttr]AttrType {
	m := map[FilterAttr]AttrType{
		AttrUsername: TypeString, AttrExternalID: TypeString, AttrID: TypeString, AttrEmail: TypeString,
		AttrFirstName: TypeString, AttrLastName: TypeString, AttrDisplayName: TypeString, AttrActive: TypeBool,
		AttrCreated: TypeTime, AttrUpdated: TypeTime, AttrManager: TypeString,
	}
	for _, f := range SearchFields() {
		m[FilterAttr(f)] = TypeString
	}
	return m
}()

// GroupFilterAttrs are the group attributes a filter may test.
var GroupFilterAttrs = map[FilterAttr]AttrType{
	AttrGroupID: TypeString, AttrGroupName: TypeString, AttrGroupExternalID: TypeString,
	AttrGroupMember: TypeString, AttrGroupCreated: TypeTime, AttrGroupUpdated: TypeTime,
}

// FilterOp is a comparison operator.
type FilterOp string

const (
	OpEq      FilterOp = "eq"
	OpNe      FilterOp = "ne"
	OpCo      FilterOp = "co"
	OpSw      FilterOp = "sw"
	OpEw      FilterOp = "ew"
	OpPresent FilterOp = "pr"
	OpGt      FilterOp = "gt"
	OpGe      FilterOp = "ge"
	OpLt      FilterOp = "lt"
	OpLe      FilterOp = "le"
)

// FilterKind says what a Filter node is.
type FilterKind int

const (
	FilterCmp   FilterKind = iota // Attr Op Value
	FilterAnd                     // every child
	FilterOr                      // any child
	FilterNot                     // not the one child
	FilterTrue                    // matches everything
	FilterFalse                   // matches nothing
)

// Filter is a boolean expression over a fixed set of attributes. It carries
// values, never query text: the store binds every value as a parameter.
type Filter struct {
	Kind     FilterKind
	Attr     FilterAttr
	Op       FilterOp
	Str      string    // TypeString values
	Bool     bool      // TypeBool values
	Time     time.Time // TypeTime values
	Children []*Filter
}

// Cmp builds a comparison node.
func Cmp(attr FilterAttr, op FilterOp, value any) *Filter {
	f := &Filter{Kind: FilterCmp, Attr: attr, Op: op}
	switch v := value.(type) {
	case string:
		f.Str = v
	case bool:
		f.Bool = v
	case time.Time:
		f.Time = v
	}
	return f
}

// And, Or and Not combine filters.
func And(fs ...*Filter) *Filter { return &Filter{Kind: FilterAnd, Children: fs} }
func Or(fs ...*Filter) *Filter  { return &Filter{Kind: FilterOr, Children: fs} }
func Not(f *Filter) *Filter     { return &Filter{Kind: FilterNot, Children: []*Filter{f}} }

// MaxFilterNodes bounds the size of a filter tree.
const MaxFilterNodes = 64

// ValidateFilter checks a filter against the attributes allowed for its
// resource and the operators each type supports.
func ValidateFilter(f *Filter, attrs map[FilterAttr]AttrType) error {
	n := 0
	var walk func(f *Filter) error
	walk = func(f *Filter) error {
		n++
		if n > MaxFilterNodes {
			return invalid("filter", "has more than %d terms", MaxFilterNodes)
		}
		switch f.Kind {
		case FilterTrue, FilterFalse:
			return nil
		case FilterAnd, FilterOr:
			if len(f.Children) < 2 {
				return invalid("filter", "and/or need two operands")
			}
		case FilterNot:
			if len(f.Children) != 1 {
				return invalid("filter", "not needs one operand")
			}
		case FilterCmp:
			t, ok := attrs[f.Attr]
			if !ok {
				return invalid("filter", "attribute %s cannot be filtered on", f.Attr)
			}
			return checkOp(f, t)
		default:
			return invalid("filter", "unknown node")
		}
		for _, c := range f.Children {
			if c == nil {
				return invalid("filter", "empty operand")
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if f == nil {
		return nil
	}
	return walk(f)
}

func checkOp(f *Filter, t AttrType) error {
	ok := false
	switch f.Op {
	case OpEq, OpNe, OpPresent:
		ok = true
	case OpCo, OpSw, OpEw:
		ok = t == TypeString
	case OpGt, OpGe, OpLt, OpLe:
		ok = t == TypeString || t == TypeTime
	}
	if !ok {
		return invalid("filter", "operator %s is not supported for %s", f.Op, f.Attr)
	}
	return nil
}

// String renders a filter for logs and errors.
func (f *Filter) String() string {
	if f == nil {
		return "true"
	}
	switch f.Kind {
	case FilterTrue:
		return "true"
	case FilterFalse:
		return "false"
	case FilterNot:
		return "not(" + f.Children[0].String() + ")"
	case FilterAnd, FilterOr:
		op := " and "
		if f.Kind == FilterOr {
			op = " or "
		}
		parts := make([]string, len(f.Children))
		for i, c := range f.Children {
			parts[i] = c.String()
		}
		return "(" + strings.Join(parts, op) + ")"
	}
	return fmt.Sprintf("%s %s %q", f.Attr, f.Op, f.Str)
}
