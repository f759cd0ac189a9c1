package core_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

type person struct {
	user, first, last, phone string
	role                     core.Role
	meta                     map[string]string
	mode                     core.InviteMode
}

func (e *env) seed(t *testing.T, people []person) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, p := range people {
		mode := p.mode
		if mode == "" {
			mode = core.NoInvite
		}
		role := p.role
		if role == "" {
			role = core.RoleMember
		}
		c, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.org, Username: p.user, Email: p.user, FirstName: p.first,
			LastName: p.last, Phone: p.phone, Role: role, Metadata: p.meta, Invite: mode})
		if err != nil {
			t.Fatalf("seed %s: %v", p.user, err)
		}
		ids[p.user] = c.User.ID
	}
	return ids
}

func usernames(r *core.SearchResult) []string {
	var out []string
	for _, u := range r.Users {
		out = append(out, u.Username)
	}
	return out
}

func TestSearchFollowsDigitalAISemantics(t *testing.T) {
	e := newEnv(t)
	if err := e.svc.SetMetadataTemplate(e.ctx, admin, e.org, []core.MetadataField{{Name: "departments", Type: core.MetaString}, {Name: "Office", Type: core.MetaString}}); err != nil {
		t.Fatal(err)
	}
	e.seed(t, []person{
		{user: "dave@example.com", first: "David", last: "Jones", phone: "+1 555 0101", meta: map[string]string{"departments": "NortheastSales"}},
		{user: "ann@example.com", first: "Ann", last: "Davenport", phone: "+44 20 7946", meta: map[string]string{"departments": "WorldwideSales", "Office": "Zürich"}},
		{user: "zoe@example.com", first: "Zoë", last: "Ångström", meta: map[string]string{"departments": "Engineering"}},
		{user: "bob@example.com", first: "Bob", last: "Smith", phone: "+1 555 0199"},
	})
	tests := []struct {
		q    string
		want []string // sorted by last name
	}{
		{"Dav", []string{"ann@example.com", "dave@example.com"}}, // first or last name, any case
		{"dav", []string{"ann@example.com", "dave@example.com"}},
		{"ZOË", []string{"zoe@example.com"}},                        // Unicode case-insensitive
		{"ångs", []string{"zoe@example.com"}},                       // substring of last name
		{"555 01", []string{"dave@example.com", "bob@example.com"}}, // phone substring
		{"BOB@EXAMPLE.COM", []string{"bob@example.com"}},            // exact username/email, case-insensitive
		{"bob@example", nil},                                        // username/email are exact only
		{"departments:sales", []string{"ann@example.com", "dave@example.com"}},
		{"departments:SALES", []string{"ann@example.com", "dave@example.com"}},
		{"departments:", nil},      // empty value finds nothing
		{"Departments:sales", nil}, // field name is exact: not a field, so plain text, which matches nothing
		{"Office:zür", []string{"ann@example.com"}},
		{"office:zür", nil},
		{"", []string{"ann@example.com", "dave@example.com", "bob@example.com", "zoe@example.com"}},
	}
	// A full first page makes the store count: the total must still be right.
	for _, q := range []string{"departments:sales", "dav", ""} {
		r, err := e.svc.SearchUsers(e.ctx, core.UserSearch{OrgID: e.org, Limit: 1}, q)
		want := map[string]int{"departments:sales": 2, "dav": 2, "": 4}[q]
		if err != nil || r.Total != want || len(r.Users) != 1 || r.Next == nil {
			t.Fatalf("%q with page size 1: total %d (%v), want %d", q, r.Total, err, want)
		}
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			r, err := e.svc.SearchUsers(e.ctx, core.UserSearch{OrgID: e.org}, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := usernames(r); !slices.Equal(got, tt.want) || r.Total != len(tt.want) {
				t.Fatalf("got %v (total %d), want %v", got, r.Total, tt.want)
			}
		})
	}
}

func TestSearchFiltersAndSorts(t *testing.T) {
	e := newEnv(t)
	ids := e.seed(t, []person{
		{user: "m@example.com", last: "Adams", role: core.RoleMember},
		{user: "a@example.com", last: "Brown", role: core.RoleAdmin},
		{user: "d@example.com", last: "Clark", role: core.RoleDeveloper},
		{user: "um@example.com", last: "Davis", role: core.RoleUserManager},
		{user: "p@example.com", last: "Evans", mode: core.InviteByLink},
		{user: "x@example.com", last: "Foster", mode: core.InviteByLink},
	})
	e.clock.Advance(8 * 24 * time.Hour)
	if _, err := e.svc.ResendInvite(e.ctx, admin, e.org, ids["p@example.com"], core.Resend{Mode: core.InviteByLink}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, ids["d@example.com"], core.ActDisable); err != nil {
		t.Fatal(err)
	}
	g, _ := e.svc.CreateGroup(e.ctx, admin, core.NewGroup{OrgID: e.org, Name: "Ops"})
	_ = e.svc.ReplaceGroupMembers(e.ctx, admin, e.org, g.ID, []string{ids["m@example.com"], ids["um@example.com"]})
	billing, _ := e.svc.CreateApp(e.ctx, admin, e.org, "Billing")
	if err := e.svc.AssignApp(e.ctx, admin, core.AppGrant{OrgID: e.org, AppID: billing.ID, GroupID: g.ID}); err != nil {
		t.Fatal(err)
	}
	wiki, _ := e.svc.CreateApp(e.ctx, admin, e.org, "Wiki")
	if err := e.svc.AssignApp(e.ctx, admin, core.AppGrant{OrgID: e.org, AppID: wiki.ID, UserID: ids["a@example.com"]}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		q    core.UserSearch
		want []string
	}{
		{"by role rank: User, Admin, Developer, User Manager", core.UserSearch{Sort: core.SortRole, Roles: []core.Role{core.RoleAdmin, core.RoleDeveloper, core.RoleUserManager, core.RoleMember}},
			[]string{"m@example.com", "p@example.com", "x@example.com", "a@example.com", "d@example.com", "um@example.com"}},
		{"last name descending", core.UserSearch{Desc: true}, []string{"x@example.com", "p@example.com", "um@example.com", "d@example.com", "a@example.com", "m@example.com"}},
		{"status", core.UserSearch{Statuses: []core.Status{core.StatusDisabled}}, []string{"d@example.com"}},
		{"invite pending", core.UserSearch{InviteStatuses: []core.InviteStatus{core.InvitePending}}, []string{"p@example.com"}},
		{"invite expired", core.UserSearch{InviteStatuses: []core.InviteStatus{core.InviteExpired}}, []string{"x@example.com"}},
		{"invite pending or expired", core.UserSearch{InviteStatuses: []core.InviteStatus{core.InviteExpired, core.InvitePending}}, []string{"p@example.com", "x@example.com"}},
		{"group", core.UserSearch{Group: "ops"}, []string{"m@example.com", "um@example.com"}},
		{"app through a group", core.UserSearch{App: "BILLING"}, []string{"m@example.com", "um@example.com"}},
		{"app direct", core.UserSearch{App: "wiki"}, []string{"a@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.OrgID = e.org
			r, err := e.svc.SearchUsers(e.ctx, q, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := usernames(r); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []struct {
		q    core.UserSearch
		want string
	}{
		{core.UserSearch{Sort: "password_hash"}, `sort: "password_hash" is not one of`},
		{core.UserSearch{Statuses: []core.Status{"gone"}}, `status: "gone"`},
		{core.UserSearch{Limit: 100000}, "page_size"},
	} {
		bad.q.OrgID = e.org
		if _, err := e.svc.SearchUsers(e.ctx, bad.q, ""); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("got %v, want %q", err, bad.want)
		}
	}
}

func TestCursorPaginationStaysCorrectWhileUsersAreAdded(t *testing.T) {
	e := newEnv(t)
	var people []person
	for i := 0; i < 25; i++ {
		// Many share a last name, so the seq tie-breaker matters.
		people = append(people, person{user: fmt.Sprintf("u%02d@example.com", i), last: fmt.Sprintf("Name%d", i%4), first: fmt.Sprintf("F%02d", i)})
	}
	e.seed(t, people)
	for _, sort := range []core.SortKey{core.SortLastName, core.SortRole, core.SortCreatedAt, core.SortUsername} {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s desc=%v", sort, desc), func(t *testing.T) {
				var seen []string
				var after *core.Cursor
				added := 0
				for page := 0; page < 20; page++ {
					r, err := e.svc.SearchUsers(e.ctx, core.UserSearch{OrgID: e.org, Sort: sort, Desc: desc, Limit: 4, After: after}, "")
					if err != nil {
						t.Fatal(err)
					}
					seen = append(seen, usernames(r)...)
					// Users added mid-listing never cause a repeat or a skip of existing ones.
					if page == 1 {
						n := fmt.Sprintf("new-%s-%v-%d@example.com", sort, desc, added)
						e.seed(t, []person{{user: n, last: "Name1"}})
						added++
					}
					if r.Next == nil {
						break
					}
					tok, err := core.DecodeCursor(r.Next.Encode())
					if err != nil {
						t.Fatal(err)
					}
					after = tok
				}
				counts := map[string]int{}
				for _, u := range seen {
					counts[u]++
					if counts[u] > 1 {
						t.Fatalf("%s listed twice: %v", u, seen)
					}
				}
				for _, p := range people {
					if counts[p.user] != 1 {
						t.Fatalf("%s missing from the pages", p.user)
					}
				}
			})
		}
	}
	if _, err := core.DecodeCursor("garbage"); err == nil || !strings.Contains(err.Error(), "page_token") {
		t.Fatalf("bad token: %v", err)
	}
}
