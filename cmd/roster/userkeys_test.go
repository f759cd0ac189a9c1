package main

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// The person of these tests, as every path is given them.
const (
	pUsername = "asa.angstrom"
	pEmail    = "asa.angstrom@example.com"
	pFirst    = "Åsa"
	pLast     = "Ångström-Öberg"
	pPhone    = "+46 8 555 0101"
)

// personLDIF is the person as a directory entry (non-ASCII values base64,
// as LDIF requires), and the entries around them.
func personLDIF() string {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	return fmt.Sprintf("dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn:: %s\ngivenName:: %s\nsn:: %s\nmail: %s\ntelephoneNumber: %s\nuserPassword: pw-%s\n\n",
		pUsername, slapdtest.PeopleDN, pUsername, b64(pFirst+" "+pLast), b64(pFirst), b64(pLast), pEmail, pPhone, pUsername) +
		slapdtest.Person("bo.zander", "Bo", "Zander", "telephoneNumber: +46 8 555 0909") +
		slapdtest.Person("ulf.ek", "Ulf", "Ek", "telephoneNumber: +46 8 555 0808")
}

// storedDerived is every derived column of a stored users row (keys, rank)
// and the user's folded metadata values.
type storedDerived struct {
	UsernameKey, EmailKey, FirstNameKey, LastNameKey, SearchKey, DisplayKey string
	RoleRank                                                                int
	Metadata                                                                string // the user's custom field rows of the search index (user_search)
}

func readStoredDerived(t *testing.T, driver, dsn, username string) storedDerived {
	t.Helper()
	name, ph := "sqlite3", "?"
	if driver == "postgres" {
		name, ph = "pgx", "$1"
	}
	db, err := sql.Open(name, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var r storedDerived
	if err := db.QueryRow(`SELECT username_key, email_key, first_name_key, last_name_key, search_key, display_name_key, role_rank FROM users WHERE username = `+ph, username).
		Scan(&r.UsernameKey, &r.EmailKey, &r.FirstNameKey, &r.LastNameKey, &r.SearchKey, &r.DisplayKey, &r.RoleRank); err != nil {
		t.Fatalf("read %s: %v", username, err)
	}
	rows, err := db.Query(`SELECT m.field, m.value_key FROM user_search m JOIN users u ON u.seq = m.user_seq WHERE u.username = `+ph+` AND m.field LIKE 'metadata.%' ORDER BY m.field, m.value_key`, username)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var f, v string
		if err := rows.Scan(&f, &v); err != nil {
			t.Fatal(err)
		}
		r.Metadata += f + "=" + v + ";"
	}
	return r
}

// TestEveryPathStoresTheSameDerivedColumns creates the same person through
// each path that creates users, each into its own database, through the
// real binary: the admin API, the CLI (user create), a CSV import, SCIM, an
// LDAP full sync (sync run) and an LDAP on-demand import (sync import), on
// SQLite and PostgreSQL. Every stored row has the same derived columns,
// and they are the person's folded fields.
func TestEveryPathStoresTheSameDerivedColumns(t *testing.T) {
	srv := slapdtest.Start(t, personLDIF())
	f := core.FoldKey
	want := storedDerived{UsernameKey: f(pUsername), EmailKey: f(pEmail), FirstNameKey: f(pFirst), LastNameKey: f(pLast),
		SearchKey: f(pFirst) + "\x1f" + f(pLast) + "\x1f" + f(pPhone), RoleRank: core.RoleMember.Rank(),
		DisplayKey: f(pFirst + " " + pLast),
	}

	type env struct {
		dir, cfg, driver, dsn string
	}
	newEnv := func(t *testing.T, driver, dsn, ldapMode string) env {
		dir := t.TempDir()
		conf := fmt.Sprintf("listen: 127.0.0.1:0\ndatabase: {driver: %s, dsn: %q}\n", driver, dsn)
		if ldapMode != "" {
			conf += `ldap:
  sources:
    - name: corp
      urls: ["` + srv.URL + `"]
      bind_dn: "` + slapdtest.AdminDN + `"
      bind_password: "` + slapdtest.AdminPW + `"
      users: {base_dn: "` + slapdtest.PeopleDN + `"}
      mode: ` + ldapMode + `
      invite: false
`
		}
		return env{dir: dir, cfg: writeConfig(t, dir, conf), driver: driver, dsn: dsn}
	}
	must := func(t *testing.T, r result, what string) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", what, r.code, r.stdout, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	// adminToken makes an owner and a token acting as them.
	adminToken := func(t *testing.T, e env) string {
		must(t, roster(t, e.dir, "Owner-of-it-all-1\n", "user", "create", "--config", e.cfg, "--username", "boss@example.com",
			"--email", "boss@example.com", "--role", "owner", "--no-invite", "--password-stdin"), "owner")
		return must(t, roster(t, e.dir, "", "token", "create", "--config", e.cfg, "--name", "ops", "--scope", "admin", "--user", "boss@example.com"), "admin token")
	}
	paths := []struct {
		name   string
		ldap   string
		create func(t *testing.T, e env)
	}{
		{"admin-api", "", func(t *testing.T, e env) {
			tok := adminToken(t, e)
			d := startServe(t, e.dir, "--config", e.cfg)
			body, _ := json.Marshal(map[string]any{"username": pUsername, "email": pEmail, "first_name": pFirst, "last_name": pLast,
				"phone": pPhone, "role": "member", "send_invite": false})
			if code, m := call(t, nil, "POST", d.base+"/api/v1/users", tok, string(body)); code != http.StatusCreated {
				t.Fatalf("create: %d %v", code, m)
			}
			d.stop(t)
		}},
		{"cli", "", func(t *testing.T, e env) {
			must(t, roster(t, e.dir, "", "user", "create", "--config", e.cfg, "--username", pUsername, "--email", pEmail,
				"--first", pFirst, "--last", pLast, "--phone", pPhone, "--role", "member", "--no-invite"), "user create")
		}},
		{"import", "", func(t *testing.T, e env) {
			tok := adminToken(t, e)
			d := startServe(t, e.dir, "--config", e.cfg)
			csv := "username,email,first_name,last_name,phone,role\n" + strings.Join([]string{pUsername, pEmail, pFirst, pLast, pPhone, "member"}, ",") + "\n"
			req, _ := http.NewRequest("POST", d.base+"/api/v1/users/import?dry_run=false&send_invite=false", strings.NewReader(csv))
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"created"`) {
				t.Fatalf("import: %d %s", res.StatusCode, b)
			}
			d.stop(t)
		}},
		{"scim", "", func(t *testing.T, e env) {
			tok := must(t, roster(t, e.dir, "", "token", "create", "--config", e.cfg, "--name", "okta", "--scope", "scim", "--invite=false"), "scim token")
			d := startServe(t, e.dir, "--config", e.cfg)
			body, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": pUsername,
				"name":         map[string]any{"givenName": pFirst, "familyName": pLast},
				"emails":       []map[string]any{{"value": pEmail, "primary": true}},
				"phoneNumbers": []map[string]any{{"value": pPhone, "primary": true}}})
			if code, m := call(t, nil, "POST", d.base+"/scim/v2/Users", tok, string(body)); code != http.StatusCreated {
				t.Fatalf("scim create: %d %v", code, m)
			}
			d.stop(t)
		}},
		{"ldap-full-sync", "all", func(t *testing.T, e env) {
			out := must(t, roster(t, e.dir, "", "sync", "run", "--config", e.cfg, "--json", "--full"), "sync run")
			if !strings.Contains(out, `"created":3,`) {
				t.Fatalf("sync run: %s", out)
			}
		}},
		{"ldap-on-demand", "on_demand", func(t *testing.T, e env) {
			must(t, roster(t, e.dir, "", "sync", "import", "--config", e.cfg, "--source", "corp", "--username", pUsername), "sync import")
		}},
	}
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			got := map[string]storedDerived{}
			for _, p := range paths {
				t.Run(p.name, func(t *testing.T) {
					dsn := filepath.Join(t.TempDir(), "roster.db")
					if driver == "postgres" {
						dsn = pgtest.DSN(t)
					}
					e := newEnv(t, driver, dsn, p.ldap)
					p.create(t, e)
					got[p.name] = readStoredDerived(t, driver, dsn, pUsername)
					if got[p.name] != want {
						t.Errorf("stored derived columns\n %#v, want\n %#v", got[p.name], want)
					}
				})
			}
			ref := paths[0].name
			for _, p := range paths[1:] {
				if g, ok := got[p.name]; ok && len(got) > 1 && g != got[ref] {
					t.Errorf("%s and %s stored different derived columns:\n %#v\n %#v", ref, p.name, got[ref], g)
				}
			}
		})
	}
}

// TestDirectoryUsersAreFoundByNameAndPhone syncs a real slapd through the
// real binary (sync run), then lists users through the admin API of the
// running daemon: a directory user is found by a substring of their
// non-ASCII last name (any case), by first name and by phone, and sorting by
// first name puts the directory users in order.
func TestDirectoryUsersAreFoundByNameAndPhone(t *testing.T) {
	srv := slapdtest.Start(t, personLDIF())
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `listen: 127.0.0.1:0
database: {dsn: `+filepath.Join(dir, "roster.db")+`}
ldap:
  sources:
    - name: corp
      urls: ["`+srv.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      invite: false
`)
	if r := roster(t, dir, "", "sync", "run", "--config", cfg, "--json"); r.code != 0 || !strings.Contains(r.stdout, `"created":3,`) {
		t.Fatalf("sync run: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := roster(t, dir, "Owner-of-it-all-1\n", "user", "create", "--config", cfg, "--username", "boss@example.com", "--email", "boss@example.com",
		"--first", "Zeno", "--last", "Boss", "--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "ops", "--scope", "admin", "--user", "boss@example.com")
	if r.code != 0 {
		t.Fatalf("token: %s", r.stderr)
	}
	tok := strings.TrimSpace(r.stdout)
	d := startServe(t, dir, "--config", cfg)
	list := func(query url.Values) []string {
		t.Helper()
		code, m := call(t, nil, "GET", d.base+"/api/v1/users?"+query.Encode(), tok, "")
		if code != http.StatusOK {
			t.Fatalf("list %v: %d %v", query, code, m)
		}
		var names []string
		us, _ := m["users"].([]any)
		for _, u := range us {
			names = append(names, u.(map[string]any)["username"].(string))
		}
		return names
	}
	for _, c := range []struct{ q, why string }{
		{"ngström-ö", "a substring of the last name"},
		{"ÅNGSTRÖM", "the last name in another case"},
		{"ångström-öberg", "the whole last name, lower case"},
		{"åsa", "the first name"},
		{"ÅSA", "the first name in another case"},
		{"555 0101", "part of the phone number"},
		{"+46 8 555 0101", "the phone number"},
	} {
		if got := list(url.Values{"q": {c.q}}); len(got) != 1 || got[0] != pUsername {
			t.Errorf("search %q (%s): %v, want [%s]", c.q, c.why, got, pUsername)
		}
	}
	if got := strings.Join(list(url.Values{"q": {"555 0"}, "sort": {"last_name"}}), " "); got != "ulf.ek bo.zander "+pUsername {
		t.Errorf("search by the part of the phone every directory user has, by last name: %s", got)
	}
	if got := strings.Join(list(url.Values{"sort": {"first_name"}}), " "); got != "bo.zander ulf.ek boss@example.com "+pUsername {
		// Bo, Ulf, Zeno, Åsa: Å sorts after Z by code point of the folded key.
		t.Errorf("sorted by first name: %s", got)
	}
	d.stop(t)
}
