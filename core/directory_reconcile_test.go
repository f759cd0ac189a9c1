package core

import (
	"errors"
	"reflect"
	"testing"
)

func TestReconcile(t *testing.T) {
	alice := SyncEntry{ExternalID: "e-alice", Username: "alice", Email: "alice@example.com", FirstName: "Alice", LastName: "A"}
	bob := SyncEntry{ExternalID: "e-bob", Username: "bob", Email: "bob@example.com", FirstName: "Bob", LastName: "B"}
	stored := func(d SyncEntry, id string, st Status, removed bool) SyncedUser {
		return Synced(&User{ID: id, ExternalID: d.ExternalID, Username: d.Username, Email: d.Email, FirstName: d.FirstName,
			LastName: d.LastName, Phone: d.Phone, Role: RoleMember, Status: st}, removed)
	}
	with := func(d SyncEntry, f func(*SyncEntry)) SyncEntry { f(&d); return d }
	owned := []string{"manager_id", "title"}
	ownedStored := func(d SyncEntry, title, managerExt string) SyncedUser {
		u := &User{ID: "1", ExternalID: d.ExternalID, Username: d.Username, Email: d.Email, FirstName: d.FirstName,
			LastName: d.LastName, Role: RoleMember, Status: StatusActive, Attributes: Attributes{"title": {Str: title}}}
		return SyncedOwned(u, false, managerExt, owned)
	}
	type want struct {
		create   []int
		update   []UserChange
		status   []StatusChange
		same     int
		skipped  int
		removals int
		base     int
	}
	tests := []struct {
		name    string
		desired []SyncEntry
		current []SyncedUser
		opts    ReconcileOptions
		want    want
	}{
		{name: "first sync creates everyone", desired: []SyncEntry{alice, bob}, opts: ReconcileOptions{Full: true},
			want: want{create: []int{0, 1}}},
		{name: "no change writes nothing", desired: []SyncEntry{alice, bob},
			current: []SyncedUser{stored(alice, "1", StatusActive, false), stored(bob, "2", StatusInvited, false)},
			opts:    ReconcileOptions{Full: true}, want: want{same: 2, base: 2}},
		{name: "attribute change is an update",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) { d.LastName = "Changed"; d.Phone = "+1 555" })},
			current: []SyncedUser{stored(alice, "1", StatusActive, false)}, opts: ReconcileOptions{Full: true},
			want: want{update: []UserChange{{UserID: "1", Desired: 0}}, base: 1}},
		{name: "no email from the directory keeps a stored one (set once by an admin): no update",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) { d.Email = "" }), with(bob, func(d *SyncEntry) { d.Email = ""; d.LastName = "Changed" })},
			current: []SyncedUser{stored(alice, "1", StatusActive, false), stored(bob, "2", StatusActive, false)}, opts: ReconcileOptions{Full: true},
			want: want{update: []UserChange{{UserID: "2", Desired: 1}}, same: 1, base: 2}},
		{name: "role from role rules is an update; empty role leaves it",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) { d.Role = RoleAdmin }), bob},
			current: []SyncedUser{stored(alice, "1", StatusActive, false), stored(bob, "2", StatusActive, false)},
			opts:    ReconcileOptions{Full: true},
			want:    want{update: []UserChange{{UserID: "1", Desired: 0}}, same: 1, base: 2}},
		{name: "absent user is disabled in a full run",
			desired: []SyncEntry{alice},
			current: []SyncedUser{stored(alice, "1", StatusActive, false), stored(bob, "2", StatusActive, false)},
			opts:    ReconcileOptions{Full: true},
			want:    want{same: 1, status: []StatusChange{{UserID: "2", Action: ActDisable, Reason: "no longer in the directory"}}, removals: 1, base: 2}},
		{name: "absent user is archived with removal archive",
			desired: []SyncEntry{alice},
			current: []SyncedUser{stored(alice, "1", StatusActive, false), stored(bob, "2", StatusDisabled, false)},
			opts:    ReconcileOptions{Full: true, Archive: true},
			want:    want{same: 1, status: []StatusChange{{UserID: "2", Action: ActArchive, Reason: "no longer in the directory"}}, removals: 1, base: 1}},
		{name: "absent user is left alone in an incremental run",
			desired: []SyncEntry{alice},
			current: []SyncedUser{stored(alice, "1", StatusActive, false), stored(bob, "2", StatusActive, false)},
			want:    want{same: 1, base: 2}},
		{name: "already disabled absent user is unchanged",
			desired: []SyncEntry{alice},
			current: []SyncedUser{stored(alice, "1", StatusActive, false), stored(bob, "2", StatusDisabled, true)},
			opts:    ReconcileOptions{Full: true}, want: want{same: 2, base: 1}},
		{name: "locked in the directory is disabled",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) { d.Disabled = true })},
			current: []SyncedUser{stored(alice, "1", StatusActive, false)}, opts: ReconcileOptions{Full: true},
			want: want{status: []StatusChange{{UserID: "1", Action: ActDisable, Reason: "disabled in the directory"}}, removals: 1, base: 1}},
		{name: "re-enabled in the directory comes back when the source disabled it",
			desired: []SyncEntry{alice, bob},
			current: []SyncedUser{stored(alice, "1", StatusDisabled, true), stored(bob, "2", StatusArchived, true)},
			opts:    ReconcileOptions{Full: true},
			want: want{status: []StatusChange{{UserID: "1", Action: ActEnable, Reason: "enabled in the directory again"},
				{UserID: "2", Action: ActRestore, Reason: "back in the directory"}}}},
		{name: "a user an admin disabled stays disabled",
			desired: []SyncEntry{alice},
			current: []SyncedUser{stored(alice, "1", StatusDisabled, false)}, opts: ReconcileOptions{Full: true},
			want: want{same: 1}},
		{name: "re-added under a new id is the same user",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) { d.ExternalID = "e-alice-2"; d.Username = "ALICE" })},
			current: []SyncedUser{stored(alice, "1", StatusDisabled, true)}, opts: ReconcileOptions{Full: true},
			want: want{update: []UserChange{{UserID: "1", Desired: 0}},
				status: []StatusChange{{UserID: "1", Action: ActEnable, Reason: "enabled in the directory again"}}}},
		{name: "directory-disabled newcomer is created (disabled, by the apply step)",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) { d.Disabled = true }), bob},
			opts:    ReconcileOptions{Full: true}, want: want{create: []int{0, 1}}},
		{name: "with import_disabled false a directory-disabled newcomer is not imported; duplicates are skipped",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) { d.Disabled = true }), bob, bob},
			opts:    ReconcileOptions{Full: true, SkipDisabled: true}, want: want{create: []int{1, 2}, skipped: 1}},
		{name: "owned attributes: the same title is unchanged",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) {
				d.Extra = &SyncExtra{Attributes: Attributes{"title": {Str: "Engineer"}}, ManagerRef: "e-bob"}
			})},
			current: []SyncedUser{ownedStored(alice, "Engineer", "e-bob")}, opts: ReconcileOptions{Full: true, Owned: owned},
			want: want{same: 1, base: 1}},
		{name: "owned attributes: a new title is an update",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) {
				d.Extra = &SyncExtra{Attributes: Attributes{"title": {Str: "Lead"}}, ManagerRef: "e-bob"}
			})},
			current: []SyncedUser{ownedStored(alice, "Engineer", "e-bob")}, opts: ReconcileOptions{Full: true, Owned: owned},
			want: want{update: []UserChange{{UserID: "1", Desired: 0}}, base: 1}},
		{name: "owned attributes: another manager is an update",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) {
				d.Extra = &SyncExtra{Attributes: Attributes{"title": {Str: "Engineer"}}, ManagerRef: "e-carol"}
			})},
			current: []SyncedUser{ownedStored(alice, "Engineer", "e-bob")}, opts: ReconcileOptions{Full: true, Owned: owned},
			want: want{update: []UserChange{{UserID: "1", Desired: 0}}, base: 1}},
		{name: "an attribute the source does not own is not compared",
			desired: []SyncEntry{with(alice, func(d *SyncEntry) {
				d.Extra = &SyncExtra{Attributes: Attributes{"title": {Str: "Engineer"}}, ManagerRef: "e-bob"}
			})},
			current: []SyncedUser{func() SyncedUser {
				u := &User{ID: "1", ExternalID: alice.ExternalID, Username: alice.Username, Email: alice.Email, FirstName: alice.FirstName,
					LastName: alice.LastName, Role: RoleMember, Status: StatusActive,
					Attributes: Attributes{"title": {Str: "Engineer"}, "nick_name": {Str: "Al"}}, Metadata: map[string]string{"floor": "3"}}
				return SyncedOwned(u, false, "e-bob", owned)
			}()}, opts: ReconcileOptions{Full: true, Owned: owned},
			want: want{same: 1, base: 1}},
		{name: "duplicate of a stored id is skipped",
			desired: []SyncEntry{bob, bob},
			current: []SyncedUser{stored(bob, "2", StatusActive, false)}, opts: ReconcileOptions{Full: true},
			want: want{same: 1, skipped: 1, base: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Reconcile(tt.desired, tt.current, tt.opts)
			got := want{create: p.Create, update: p.Update, status: p.Status, same: p.Unchanged, skipped: p.Skipped, removals: p.Removals, base: p.Base}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Reconcile:\n got  %+v\n want %+v", got, tt.want)
			}
		})
	}
}

func TestCheckGuard(t *testing.T) {
	tests := []struct {
		name     string
		max      string
		removals int
		base     int
		full     bool
		listed   int
		trips    bool
	}{
		{"within a count", "5", 5, 100, true, 95, false},
		{"over a count", "5", 6, 100, true, 94, true},
		{"within a percentage", "5%", 5, 100, true, 95, false},
		{"over a percentage", "5%", 6, 100, true, 94, true},
		{"percentage rounds down", "10%", 1, 9, true, 8, true},
		{"everyone removed at 100%", "100%", 10, 10, true, 0, true}, // an empty listing always trips
		{"empty listing of an empty source", "0", 0, 0, true, 0, false},
		{"incremental empty listing", "0", 0, 10, false, 0, false},
		{"zero allows none", "0", 1, 10, true, 9, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMaxRemovals(tt.max)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckGuard(&Plan{Removals: tt.removals, Base: tt.base}, m, tt.full, tt.listed)
			if got := errors.Is(err, ErrGuard); got != tt.trips {
				t.Errorf("trips = %v (%v), want %v", got, err, tt.trips)
			}
		})
	}
	for _, bad := range []string{"", "x", "-1", "101%", "5 %%"} {
		if _, err := ParseMaxRemovals(bad); err == nil {
			t.Errorf("ParseMaxRemovals(%q) accepted", bad)
		}
	}
}
