package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SortKey is a column the users list sorts by.
type SortKey string

const (
	SortLastName     SortKey = "last_name" // the default
	SortFirstName    SortKey = "first_name"
	SortFullName     SortKey = "full_name" // first name, then last name
	SortUsername     SortKey = "username"
	SortEmail        SortKey = "email"
	SortRole         SortKey = "role" // by rank, not alphabet
	SortStatus       SortKey = "status"
	SortInviteStatus SortKey = "invite_status"
	SortCreatedAt    SortKey = "created_at"
)

// SortKeys lists the sortable columns.
var SortKeys = []SortKey{SortLastName, SortFirstName, SortFullName, SortUsername, SortEmail, SortRole, SortStatus, SortInviteStatus, SortCreatedAt}

// UserSearch is the admin users list query: filters, search,
// sort and keyset pagination. The store answers it in SQL.
type UserSearch struct {
	OrgID          string
	Roles          []Role
	Statuses       []Status
	InviteStatuses []InviteStatus
	Group          string // group name (case-insensitive)
	App            string // app name, direct or through a group
	Sort           SortKey
	Desc           bool
	Limit          int
	After          *Cursor
	Now            time.Time // invite status is derived against it

	// Derived from the search text by ParseSearch.
	Text      string // folded: substring of first/last name or phone, exact username/email
	MetaField string // search index field: a searchable attribute, or MetadataPrefix + a custom field
	MetaValue string // folded substring of that field's value
	Nothing   bool   // the search matches nothing (e.g. "field:" with no value)
}

// Cursor is where the previous page ended: the sort value and seq of its last row.
type Cursor struct {
	Sort  SortKey `json:"k"`
	Desc  bool    `json:"d"`
	Value string  `json:"v"`
	Seq   int64   `json:"s"`
}

// Encode makes the opaque page token.
func (c *Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a page token.
func DecodeCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c Cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.Seq <= 0 {
		return nil, invalid("page_token", "is not a page token from this list")
	}
	return &c, nil
}

// ParseSearch applies the users list's search semantics to q: "field:value"
// searches a custom metadata field (name exact, as defined in the template)
// or a searchable attribute of the schema (SearchFields: title, department,
// emails.value, addresses.locality, …), the value a case-insensitive
// substring (empty finds nothing); otherwise a
// case-insensitive substring of first name, last name or phone, or an exact,
// case-insensitive username or email.
func (q *UserSearch) ParseSearch(text string, tpl []MetadataField) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	if field, value, ok := strings.Cut(text, ":"); ok {
		key := ""
		for _, f := range tpl {
			if f.Name == field {
				key = MetadataPrefix + field
			}
		}
		if key == "" && slices.Contains(SearchFields(), field) {
			key = field
		}
		if key != "" {
			q.MetaField = key
			q.MetaValue = FoldKey(value)
			q.Nothing = q.MetaValue == ""
			return
		}
	}
	q.Text = FoldKey(text)
}

// SearchResult is one page of the users list.
type SearchResult struct {
	Users []UserView
	Total int
	Next  *Cursor
}

// SearchUsers runs the admin users list.
func (s *Service) SearchUsers(ctx context.Context, q UserSearch, text string) (*SearchResult, error) {
	if q.Sort == "" {
		q.Sort = SortLastName
	}
	valid := false
	for _, k := range SortKeys {
		valid = valid || k == q.Sort
	}
	var p problems
	if !valid {
		p.add("sort", "%q is not one of %s", q.Sort, joinKeys(SortKeys))
	}
	for _, r := range q.Roles {
		if !r.Valid() {
			p.add("role", "%q is not a role", r)
		}
	}
	for _, st := range q.Statuses {
		if !st.Valid() {
			p.add("status", "%q is not a status", st)
		}
	}
	for _, st := range q.InviteStatuses {
		if !st.Valid() {
			p.add("invite_status", "%q is not an invite status", st)
		}
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 500 {
		p.add("page_size", "%d is over 500", q.Limit)
	}
	if q.After != nil && (q.After.Sort != q.Sort || q.After.Desc != q.Desc) {
		p.add("page_token", "belongs to a list sorted differently")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	q.Now = s.now()
	var out *SearchResult
	err := s.store.View(ctx, func(tx Tx) error {
		tpl, err := tx.MetadataTemplate(ctx, q.OrgID)
		if err != nil {
			return err
		}
		q.ParseSearch(text, tpl)
		users, total, err := tx.SearchUsers(ctx, &q)
		if err != nil {
			return err
		}
		out = &SearchResult{Users: make([]UserView, 0, len(users)), Total: total}
		if len(users) > q.Limit {
			users = users[:q.Limit]
			last := &users[len(users)-1]
			out.Next = &Cursor{Sort: q.Sort, Desc: q.Desc, Value: SortValue(last, q.Sort), Seq: last.Seq}
		}
		out.Users, err = s.views(ctx, tx, users)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return out, nil
}

// views derives the shown form of a page of users, loading their groups and
// apps in one query each.
func (s *Service) views(ctx context.Context, tx Tx, users []User) ([]UserView, error) {
	ids := make([]string, len(users))
	for i := range users {
		ids[i] = users[i].ID
	}
	groups, err := tx.GroupNamesOfUsers(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("groups of users: %w", err)
	}
	apps, err := tx.AppsOfUsers(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("apps of users: %w", err)
	}
	now := s.now()
	out := make([]UserView, len(users))
	for i := range users {
		u := &users[i]
		out[i] = UserView{User: *u, FullName: u.FullName(), InviteStatus: DeriveInviteStatus(u, now), InviteReason: DeriveInviteReason(u), Groups: groups[u.ID], Apps: apps[u.ID]}
		if out[i].Metadata == nil {
			out[i].Metadata = map[string]string{}
		}
		if out[i].Groups == nil {
			out[i].Groups = []string{}
		}
		if out[i].Apps == nil {
			out[i].Apps = []AppAssignment{}
		}
	}
	return out, nil
}

// SortValue is the value of u's sort column as the store compares it.
func SortValue(u *User, k SortKey) string {
	switch k {
	case SortFirstName, SortFullName:
		return FoldKey(u.FirstName)
	case SortUsername:
		return FoldKey(u.Username)
	case SortEmail:
		return FoldKey(u.Email)
	case SortRole:
		return fmt.Sprintf("%d", u.Role.Rank())
	case SortStatus:
		return string(u.Status)
	case SortInviteStatus:
		return string(u.InviteState)
	case SortCreatedAt:
		return u.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	return FoldKey(u.LastName)
}

func joinKeys(ks []SortKey) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// UserSearchRepo finds users: the admin list, filters of provisioning
// clients, and the pages' groups and apps.
type UserSearchRepo interface {
	// SearchUsers returns up to q.Limit+1 users after q.After, and the total
	// matching the filters (ignoring the cursor).
	SearchUsers(ctx context.Context, q *UserSearch) ([]User, int, error)
	// GroupNamesOfUsers and AppsOfUsers load a page's groups and apps in one query each.
	GroupNamesOfUsers(ctx context.Context, userIDs []string) (map[string][]string, error)
	AppsOfUsers(ctx context.Context, userIDs []string) (map[string][]AppAssignment, error)
	FilterUsers(ctx context.Context, q DirectoryQuery) ([]User, int, error)
	SearchDirectoryUsers(ctx context.Context, q DirectoryQuery) ([]DirectoryUser, int, error)
	ExistingUserIDs(ctx context.Context, orgID, source string, ids []string) ([]string, error)
}
