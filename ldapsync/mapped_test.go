package ldapsync

import (
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestMappedAttributes: an OpenLDAP entry's title (the preset's default),
// departmentNumber → department, manager (the DN of another synced user),
// mobile and l (typed values), and a custom field
// physicalDeliveryOfficeName → metadata.office land on the user, are found
// by the admin search, survive an unchanged run untouched, and a changed
// title is one update whose history names it.
func TestMappedAttributes(t *testing.T) {
	data := slapdtest.Person("boss", "Bea", "Boss", "title: Director", "departmentNumber: Sales", "physicalDeliveryOfficeName: Brussels") +
		// ann's manager comes after her in the listing: resolved in the same run.
		slapdtest.Person("ann", "Ann", "Worker", "title: Engineer", "departmentNumber: Sales", "physicalDeliveryOfficeName: Ghent",
			"manager: "+slapdtest.UserDN("zed"), "mobile: +32 470 00 00 01", "telephoneNumber: +32 9 000 00 00", "l: Gent", "displayName: Ann W.") +
		slapdtest.Person("zed", "Zed", "Lead", "title: Lead", "departmentNumber: Engineering", "manager: "+slapdtest.UserDN("boss")) +
		slapdtest.Person("orphan", "Otto", "Orphan", "manager: uid=nobody,ou=people,dc=example,dc=com")
	srv := slapdtest.Start(t, data)
	e := newEnv(t)
	if err := e.svc.SetMetadataTemplate(e.ctx, core.CLIActor(), e.org.ID, []core.MetadataField{
		{Name: "office", Type: core.MetaString}, {Name: "floor", Type: core.MetaNumber}}); err != nil {
		t.Fatal(err)
	}
	src := e.source(sourceConfig(srv, func(c *Config) {
		c.Attributes = map[string]string{"department": "departmentNumber", "metadata.office": "physicalDeliveryOfficeName"}
	}))
	rep := mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Created != 4 {
		t.Fatalf("first run: %+v", rep)
	}
	// The manager nobody has is reported, and the user is created without one.
	if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, "uid=nobody") }) {
		t.Errorf("problems %v, want the unknown manager reported", rep.Problems)
	}
	us := e.users()
	ann, zed, boss := us["ann"], us["zed"], us["boss"]
	if ann.Attributes.Str("title") != "Engineer" || ann.Attributes.Str("department") != "Sales" || ann.Metadata["office"] != "Ghent" || ann.DisplayName != "Ann W." {
		t.Errorf("ann: title %q department %q metadata %v display %q", ann.Attributes.Str("title"), ann.Attributes.Str("department"), ann.Metadata, ann.DisplayName)
	}
	if ann.ManagerID != zed.ID || zed.ManagerID != boss.ID || boss.ManagerID != "" || us["orphan"].ManagerID != "" {
		t.Errorf("managers: ann→%q (zed %s), zed→%q (boss %s), boss→%q", ann.ManagerID, zed.ID, zed.ManagerID, boss.ID, boss.ManagerID)
	}
	phones := ann.Attributes.List(core.AttrNamePhones)
	if ann.Phone != "+32 9 000 00 00" || len(phones) != 2 || phones[1].Type != "mobile" || phones[1].Value != "+32 470 00 00 01" {
		t.Errorf("ann's phone %q, phone_numbers %+v", ann.Phone, phones)
	}
	if a := ann.Attributes.List(core.AttrNameAddresses); len(a) != 1 || a[0].Type != "work" || a[0].Parts["locality"] != "Gent" {
		t.Errorf("ann's addresses %+v", a)
	}
	// Searchable through the admin search, standard and custom fields alike.
	for text, want := range map[string][]string{
		"office:ghent": {"ann"}, "department:sales": {"ann", "boss"}, "title:engineer": {"ann"}, "office:brussels": {"boss"},
	} {
		res, err := e.svc.SearchUsers(e.ctx, core.UserSearch{OrgID: e.org.ID, Sort: core.SortUsername}, text)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range res.Users {
			got = append(got, u.Username)
		}
		if !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", text, got, want)
		}
	}

	// Nothing changed: nothing written.
	h := e.history()
	rep = mustRun(t, src, core.DirectoryRunOptions{Full: true})
	if rep.Unchanged != 4 || rep.Created+rep.Updated+rep.Disabled+rep.Enabled != 0 {
		t.Errorf("unchanged run: %+v", rep)
	}
	if e.history() != h {
		t.Errorf("an unchanged run wrote %d history entries", e.history()-h)
	}

	// A changed title is one update, its history naming title.
	srv.Modify("dn: " + slapdtest.UserDN("ann") + "\nchangetype: modify\nreplace: title\ntitle: Lead Engineer\n")
	rep = mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Updated != 1 || rep.Created+rep.Disabled+rep.Errors != 0 {
		t.Fatalf("title change: %+v", rep)
	}
	if got := e.users()["ann"].Attributes.Str("title"); got != "Lead Engineer" {
		t.Errorf("title %q", got)
	}
	hs, err := e.svc.History(e.ctx, e.org.ID, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := hs[len(hs)-1]
	if last.Action != "user.update" || len(last.Changes) != 1 || last.Changes[0].Attribute != "title" ||
		last.Changes[0].From != "Engineer" || last.Changes[0].To != "Lead Engineer" {
		t.Errorf("last history %s %+v, want title: Engineer → Lead Engineer", last.Action, last.Changes)
	}

	// A new manager (incremental: the manager is not re-read) is resolved from the store.
	srv.Modify("dn: " + slapdtest.UserDN("ann") + "\nchangetype: modify\nreplace: manager\nmanager: " + slapdtest.UserDN("boss") + "\n")
	rep = mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Mode != core.SyncIncremental || rep.Updated != 1 {
		t.Errorf("manager change: %+v", rep)
	}
	if got := e.users()["ann"].ManagerID; got != boss.ID {
		t.Errorf("ann's manager %q, want boss %s", got, boss.ID)
	}
}

// TestMappedTypeViolation: a custom field's type violation from the
// directory is that user's error in the run; the rest applies.
func TestMappedTypeViolation(t *testing.T) {
	data := slapdtest.Person("good", "Gus", "Good", "roomNumber: 3") + slapdtest.Person("bad", "Bob", "Bad", "roomNumber: abc")
	srv := slapdtest.Start(t, data)
	e := newEnv(t)
	if err := e.svc.SetMetadataTemplate(e.ctx, core.CLIActor(), e.org.ID, []core.MetadataField{{Name: "floor", Type: core.MetaNumber}}); err != nil {
		t.Fatal(err)
	}
	src := e.source(sourceConfig(srv, func(c *Config) { c.Attributes = map[string]string{"metadata.floor": "roomNumber"} }))
	rep := mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Created != 1 || rep.Errors != 1 || rep.Status != core.RunOK {
		t.Fatalf("run: %+v", rep)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "bad") || !strings.Contains(rep.Problems[0], "metadata.floor") || !strings.Contains(rep.Problems[0], "not a number") {
		t.Errorf("problems %v, want bad's metadata.floor named", rep.Problems)
	}
	if us := e.users(); us["good"].Metadata["floor"] != "3" {
		t.Errorf("good: %v", us["good"].Metadata)
	}
	// Fixed in the directory, the user comes in.
	srv.Modify("dn: " + slapdtest.UserDN("bad") + "\nchangetype: modify\nreplace: roomNumber\nroomNumber: 4\n")
	rep = mustRun(t, src, core.DirectoryRunOptions{Full: true})
	if rep.Created != 1 || rep.Errors != 0 {
		t.Errorf("after the fix: %+v", rep)
	}
	// An existing user given a bad value is not written; the others are.
	srv.Modify("dn: " + slapdtest.UserDN("bad") + "\nchangetype: modify\nreplace: roomNumber\nroomNumber: four\n-\nreplace: sn\nsn: Changed\n\n" +
		"dn: " + slapdtest.UserDN("good") + "\nchangetype: modify\nreplace: roomNumber\nroomNumber: 5\n")
	rep = mustRun(t, src, core.DirectoryRunOptions{Full: true})
	if rep.Updated != 1 || rep.Errors != 1 {
		t.Errorf("bad update: %+v", rep)
	}
	us := e.users()
	if us["bad"].LastName != "Bad" || us["bad"].Metadata["floor"] != "4" || us["good"].Metadata["floor"] != "5" {
		t.Errorf("bad %s %v, good %v", us["bad"].LastName, us["bad"].Metadata, us["good"].Metadata)
	}
}

// TestImportDisabled: a locked entry seen for the first time is created
// disabled (the username stays its owner's), invited by nobody, and enabled
// when the directory unlocks it; import_disabled: false skips it, counted.
func TestImportDisabled(t *testing.T) {
	data := slapdtest.People(2) + slapdtest.Person("locked", "Lou", "Locked", "pwdAccountLockedTime: 000001010000Z")
	srv := slapdtest.Start(t, data)
	t.Run("default", func(t *testing.T) {
		e := newEnv(t)
		tr := true
		src := e.source(sourceConfig(srv, func(c *Config) { c.Invite = &tr }))
		rep := mustRun(t, src, core.DirectoryRunOptions{})
		if rep.Created != 3 || rep.Skipped != 0 {
			t.Fatalf("first run: %+v", rep)
		}
		lou := e.users()["locked"]
		if lou.Status != core.StatusDisabled {
			t.Errorf("locked is %s, want disabled", lou.Status)
		}
		if n := e.count(`SELECT COUNT(*) FROM invites WHERE user_id = ?`, lou.ID); n != 0 {
			t.Errorf("%d invitations for a disabled user", n)
		}
		// The username is taken by its owner.
		if _, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.org.ID, Username: "locked", Email: "other@example.com"}); err == nil {
			t.Error("another user took the disabled user's username")
		}
		rep = mustRun(t, src, core.DirectoryRunOptions{Full: true})
		if rep.Unchanged != 3 || rep.Disabled+rep.Created+rep.Updated != 0 {
			t.Errorf("second run: %+v", rep)
		}
		srv.Modify("dn: " + slapdtest.UserDN("locked") + "\nchangetype: modify\ndelete: pwdAccountLockedTime\n")
		defer srv.Modify("dn: " + slapdtest.UserDN("locked") + "\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n")
		rep = mustRun(t, src, core.DirectoryRunOptions{Full: true})
		if rep.Enabled != 1 {
			t.Errorf("unlocked: %+v", rep)
		}
		if st := e.statuses()["locked"]; st == core.StatusDisabled {
			t.Errorf("unlocked user is %s", st)
		}
	})
	t.Run("import_disabled false", func(t *testing.T) {
		e := newEnv(t)
		f := false
		rep := mustRun(t, e.source(sourceConfig(srv, func(c *Config) { c.ImportDisabled = &f })), core.DirectoryRunOptions{})
		if rep.Created != 2 || rep.Skipped != 1 || rep.SkippedReasons[core.SkipDisabled] != 1 {
			t.Errorf("run: %+v", rep)
		}
		if _, ok := e.users()["locked"]; ok {
			t.Error("the locked newcomer was imported")
		}
	})
}

// TestMappedConfig: the attributes map takes the schema's API names, typed
// values, address parts and custom fields; anything else is a config error
// naming the key, reported with every other problem.
func TestMappedConfig(t *testing.T) {
	c := Config{Name: "corp", URLs: []string{"ldap://127.0.0.1:389"}, Users: Search{BaseDN: "ou=people,dc=example,dc=com"}}
	c.Defaults()
	c.Attributes = map[string]string{
		"title": "title", "department": "departmentNumber", "metadata.office": "physicalDeliveryOfficeName", "manager": "manager",
		"phone_numbers.mobile": "mobile", "emails.home": "otherMailbox", "addresses.work.locality": "l", "display_name": "cn",
		"username": "uid",
	}
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("a good map: %v", ps)
	}
	c.Attributes = map[string]string{
		"titel": "title", "phone_numbers": "mobile", "addresses.work.town": "l", "metadata.2x": "x", "roles.admin": "x", "status": "x",
		"title": "",
	}
	c.Interval = 1 // another problem, reported with them
	got := map[string]string{}
	for _, p := range c.Validate() {
		got[p.Field] = p.Message
	}
	for _, k := range []string{"attributes.titel", "attributes.phone_numbers", "attributes.addresses.work.town", "attributes.metadata.2x",
		"attributes.roles.admin", "attributes.status", "attributes.title", "interval"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no problem at %s (problems %v)", k, got)
		}
	}
	if m := got["attributes.titel"]; !strings.HasPrefix(m, "not a user attribute") {
		t.Errorf("attributes.titel: %q", m)
	}
	// The source refuses to start on the same map.
	if _, err := New(c, "org", Deps{Service: &core.Service{}}); err == nil || !strings.Contains(err.Error(), "attributes.titel") {
		t.Errorf("New: %v", err)
	}
}

// TestPresetExtra: the presets' defaults come from the schema (title for
// OpenLDAP; AD's department, company, employeeID) and the typed-value table.
func TestPresetExtra(t *testing.T) {
	o, ad := presetExtra("openldap"), presetExtra("active_directory")
	for k, v := range map[string]string{"title": "title", "department": "departmentNumber", "manager_id": "manager", "employee_number": "employeeNumber",
		"display_name": "displayName", "phone_numbers.mobile": "mobile"} {
		if o[k] != v {
			t.Errorf("openldap %s = %q, want %q", k, o[k], v)
		}
	}
	for k, v := range map[string]string{"department": "department", "organization": "company", "employee_number": "employeeID",
		"phone_numbers.mobile": "mobile", "addresses.work.locality": "l", "addresses.work.country": "c"} {
		if ad[k] != v {
			t.Errorf("ad %s = %q, want %q", k, ad[k], v)
		}
	}
	for _, k := range []string{"username", "email", "language", "phone"} {
		if _, ok := o[k]; ok {
			t.Errorf("openldap defaults %s", k)
		}
	}
}

// TestOnDemandImportAttributes: a user imported on demand (at login) gets
// the mapped attributes too, the manager when already imported, and the
// next run finds nothing to change.
func TestOnDemandImportAttributes(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.Person("boss", "Bea", "Boss", "title: Director")+
		slapdtest.Person("ann", "Ann", "Worker", "title: Engineer", "manager: "+slapdtest.UserDN("boss")))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *Config) { c.Mode = "on_demand" }))
	boss, err := src.Import(t.Context(), "boss")
	if err != nil {
		t.Fatal(err)
	}
	ann, err := src.Import(t.Context(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	if ann.Attributes.Str("title") != "Engineer" || ann.ManagerID != boss.ID || boss.Attributes.Str("title") != "Director" {
		t.Errorf("ann: title %q manager %q (boss %s)", ann.Attributes.Str("title"), ann.ManagerID, boss.ID)
	}
	if rep := mustRun(t, src, core.DirectoryRunOptions{Full: true}); rep.Unchanged != 2 || rep.Updated != 0 {
		t.Errorf("run after the imports: %+v", rep)
	}
}
