package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
)

// mailOrgEnv is a configured data directory with an owner's admin token and
// an SMTP catcher; serve is started by the test.
type mailOrgEnv struct {
	dir, cfg, tok string
	mt            *mailtest.Catcher
}

func newMailOrgEnv(t *testing.T) *mailOrgEnv {
	t.Helper()
	mt := mailtest.Start(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := writeConfig(t, dir, `listen: `+addr+`
public_url: http://`+addr+`
database: {dsn: `+dir+`/r.db}
smtp: {host: 127.0.0.1, port: `+strconv.Itoa(mt.Port)+`, tls: none, from: "Roster <no-reply@roster.test>"}
`)
	return &mailOrgEnv{dir: dir, cfg: cfg, tok: adminSetup(t, dir, cfg, "Kestrel-pass-4711-x"), mt: mt}
}

func errField(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// The organisation's profile through the real binary: the operator sets the
// display name, support address, catalog URL and the administrators'
// password expiry (roster org set), bad values name the flag's field and
// change nothing; owners and admins read and change the profile through
// GET/PUT /api/v1/org but not the name nor the admins' expiry (403 naming
// who may); the invitation mail, caught over SMTP, carries the display
// name, the set-password link, the catalog link and the support address.
func TestOrgProfileInMailsAndOperatorOnlyAdminExpiry(t *testing.T) {
	e := newMailOrgEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--catalog-url", "ftp://apps.acme.test"}, "catalog_url"},
		{[]string{"--catalog-url", "/catalog"}, "catalog_url"},
		{[]string{"--support-email", "not an address"}, "support_email"},
		{[]string{"--admin-password-expiry", "90x"}, "--admin-password-expiry"},
		{[]string{"--admin-password-expiry", "9000d"}, "--admin-password-expiry"},
		{nil, "--display-name"},
	} {
		r := roster(t, e.dir, "", append([]string{"org", "set", "default", "--config", e.cfg}, tc.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("org set %v: exit %d, stderr %q; want a refusal naming %s", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := roster(t, e.dir, "", "org", "set", "nope", "--config", e.cfg, "--display-name", "X"); r.code == 0 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("org set of an unknown organisation: %d %s", r.code, r.stderr)
	}
	// Flags after the name, as well as before.
	r := roster(t, e.dir, "", "org", "set", "--config", e.cfg, "default", "--display-name", "Acme Corp", "--support-email", "help@acme.test",
		"--catalog-url", "https://apps.acme.test/catalog", "--admin-password-expiry", "90d")
	var set map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &set) != nil || set["display_name"] != "Acme Corp" || set["support_email"] != "help@acme.test" ||
		set["catalog_url"] != "https://apps.acme.test/catalog" || set["admin_password_expiry_days"] != 90.0 {
		t.Fatalf("org set: %d %s %s", r.code, r.stdout, r.stderr)
	}

	d := startServe(t, e.dir, "--config", e.cfg)
	api := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		return call(t, nil, method, d.base+path, e.tok, body)
	}
	code, o := api("GET", "/api/v1/org", "")
	if code != 200 || o["display_name"] != "Acme Corp" || o["support_email"] != "help@acme.test" || o["catalog_url"] != "https://apps.acme.test/catalog" || o["name"] != "default" {
		t.Fatalf("GET /org: %d %v", code, o)
	}
	for _, tc := range []struct {
		body  string
		code  int
		field string
	}{
		{`{"catalog_url":"javascript:alert(1)"}`, 400, "catalog_url"},
		{`{"support_email":"help@"}`, 400, "support_email"},
		{`{"display_name":"` + strings.Repeat("x", 300) + `"}`, 400, "display_name"},
		{`{"name":"acme"}`, 403, "name"},
	} {
		if code, m := api("PUT", "/api/v1/org", tc.body); code != tc.code || errField(m) != tc.field {
			t.Errorf("PUT /org %s: %d %v; want %d naming %s", tc.body, code, m, tc.code, tc.field)
		}
	}
	if code, m := api("PUT", "/api/v1/org", `{"display_name":"Acme Europe"}`); code != 200 || m["display_name"] != "Acme Europe" || m["catalog_url"] != "https://apps.acme.test/catalog" {
		t.Fatalf("PUT /org display_name: %d %v", code, m)
	}

	// The admins' expiry is the operator's: an owner is refused, told who may.
	code, pol := api("GET", "/api/v1/org/password-policy", "")
	if code != 200 || pol["expiry_days_admins"] != 90.0 {
		t.Fatalf("policy after org set: %d %v", code, pol)
	}
	code, m := api("PUT", "/api/v1/org/password-policy", `{"min_length":12,"expiry_days_admins":30,"expiry_days_users":60}`)
	if code != 403 || errField(m) != "expiry_days_admins" || !strings.Contains(errMessage(m), "roster org set") || !strings.Contains(errMessage(m), "operator") {
		t.Fatalf("an owner setting expiry_days_admins: %d %v", code, m)
	}
	if code, m := api("PUT", "/api/v1/org/password-policy", `{"min_length":12,"expiry_days_users":60}`); code != 200 || m["expiry_days_admins"] != 90.0 || m["min_length"] != 12.0 {
		t.Fatalf("an owner leaving expiry_days_admins out: %d %v", code, m)
	}
	if code, m := api("PUT", "/api/v1/org/password-policy", `{"min_length":12,"expiry_days_admins":90,"expiry_days_users":61}`); code != 200 || m["expiry_days_users"] != 61.0 {
		t.Fatalf("an owner sending the admins' expiry in force: %d %v", code, m)
	}

	code, u := api("POST", "/api/v1/users", `{"username":"ines@example.com","email":"ines@example.com","first_name":"Ines"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	msg := e.mt.WaitTo(t, "ines@example.com", 15*time.Second)
	body := msg.Body()
	for _, want := range []string{"Subject: Acme Europe invites you", "Hello Ines", "https://apps.acme.test/catalog", "Install the App Catalog",
		"help@acme.test", "/invite/rinv_"} {
		if !strings.Contains(body, want) {
			t.Errorf("the invitation mail lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Default") {
		t.Errorf("the invitation mail still names the organisation Default:\n%s", body)
	}
	// The pages show the profile too: the acceptance page the display name and
	// support address, the welcome page after it the catalog link.
	link := msg.Link("/invite/rinv_")
	if code, page := get(t, link); code != 200 || !strings.Contains(page, "Acme Europe") || !strings.Contains(page, "mailto:help@acme.test") {
		t.Errorf("acceptance page: %d\n%s", code, page)
	}
	req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader(url.Values{"password": {"Correct-horse-battery-9"}, "confirm": {"Correct-horse-battery-9"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", d.base)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	done, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(done), `href="https://apps.acme.test/catalog"`) || !strings.Contains(string(done), "Install the App Catalog") {
		t.Errorf("welcome page: %d\n%s", res.StatusCode, done)
	}
	// Cleared, the catalog link and its words leave the mail.
	if code, m := api("PUT", "/api/v1/org", `{"catalog_url":""}`); code != 200 || m["catalog_url"] != "" {
		t.Fatalf("clear catalog_url: %d %v", code, m)
	}
	api("POST", "/api/v1/users", `{"username":"jon@example.com","email":"jon@example.com","first_name":"Jon"}`)
	if body := e.mt.WaitTo(t, "jon@example.com", 15*time.Second).Body(); strings.Contains(body, "App Catalog") || !strings.Contains(body, "help@acme.test") {
		t.Errorf("without a catalog URL:\n%s", body)
	}
}

// Languages an organisation chooses, through the real binary: inviting in a
// language roster does not ship is a 400 naming the language and the field
// until the organisation saved its invitation template in it (all three
// parts; unknown variables and parse errors refused naming the part); then
// the invitation arrives in it, and resend takes a language. The template
// editor lists the variables per kind.
func TestOrgLanguagesAndTemplateVariables(t *testing.T) {
	e := newMailOrgEnv(t)
	d := startServe(t, e.dir, "--config", e.cfg)
	api := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		return call(t, nil, method, d.base+path, e.tok, body)
	}
	code, m := api("POST", "/api/v1/users", `{"username":"pia@example.com","email":"pia@example.com","first_name":"Pia","invite_language":"pt-br"}`)
	if code != 400 || errField(m) != "invite_language" || !strings.Contains(errMessage(m), `"pt-BR"`) || !strings.Contains(errMessage(m), "mail-templates/invite/pt-BR") {
		t.Fatalf("invite in pt-BR without a template: %d %v", code, m)
	}
	if code, m := api("POST", "/api/v1/users", `{"username":"pia@example.com","email":"pia@example.com","invite_language":"not a tag"}`); code != 400 || errField(m) != "invite_language" {
		t.Fatalf("a malformed language: %d %v", code, m)
	}

	code, vars := api("GET", "/api/v1/org/mail-templates/variables", "")
	kinds, _ := vars["kinds"].(map[string]any)
	has := func(kind, name string) bool {
		vs, _ := kinds[kind].([]any)
		for _, v := range vs {
			if v.(map[string]any)["name"] == name {
				return true
			}
		}
		return false
	}
	if code != 200 || !has("invite", "Link") || !has("invite", "CatalogURL") || !has("app_message", "AppName") || has("group_message", "Link") || has("invite", "AppName") {
		t.Fatalf("variables: %d %v", code, vars)
	}

	put := func(lang string, tpl map[string]string) (int, map[string]any) {
		b, _ := json.Marshal(tpl)
		return api("PUT", "/api/v1/org/mail-templates/invite/"+lang, string(b))
	}
	good := map[string]string{"subject": "{{.OrgName}} convida você", "html": `<p>Olá {{.FirstName}}, <a href="{{.Link}}">aceitar</a></p>`,
		"text": "Olá {{.FirstName}},\n\naceite o convite: {{.Link}}\n"}
	for _, tc := range []struct {
		name  string
		tpl   map[string]string
		field string
		want  string
	}{
		{"only a subject", map[string]string{"subject": "Olá"}, "html", "is required"},
		{"unknown variable", map[string]string{"subject": good["subject"], "html": good["html"], "text": "{{if .FirstName}}{{.Frist}}{{end}} {{.Link}}"}, "text", ".Frist"},
		{"variable of another kind", map[string]string{"subject": "{{.GroupName}}", "html": good["html"], "text": good["text"]}, "subject", ".GroupName"},
		{"parse error", map[string]string{"subject": "{{.OrgName", "html": good["html"], "text": good["text"]}, "subject", "does not parse"},
	} {
		if code, m := put("pt-BR", tc.tpl); code != 400 || errField(m) != tc.field || !strings.Contains(errMessage(m), tc.want) {
			t.Errorf("%s: %d %v; want 400 naming %s with %q", tc.name, code, m, tc.field, tc.want)
		}
	}
	// Unknown variables are refused in the shipped languages too.
	if code, m := api("PUT", "/api/v1/org/mail-templates/invite/en", `{"subject":"{{.Nope}}"}`); code != 400 || errField(m) != "subject" || !strings.Contains(errMessage(m), ".Nope") {
		t.Errorf("unknown variable in en: %d %v", code, m)
	}
	if code, m := put("pt-br", good); code != 200 || m["language"] != "pt-BR" {
		t.Fatalf("save pt-BR: %d %v", code, m)
	}
	if code, m := api("GET", "/api/v1/org/mail-templates", ""); code != 200 || !strings.Contains(fmt.Sprint(m["languages"]), "pt-BR") {
		t.Errorf("template list languages: %d %v", code, m)
	}

	code, u := api("POST", "/api/v1/users", `{"username":"pia@example.com","email":"pia@example.com","first_name":"Pia","invite_language":"pt-BR"}`)
	if code != 201 {
		t.Fatalf("invite in pt-BR: %d %v", code, u)
	}
	if body := e.mt.WaitTo(t, "pia@example.com", 15*time.Second).Body(); !strings.Contains(body, "Olá Pia") || !strings.Contains(body, "/invite/rinv_") {
		t.Errorf("the pt-BR invitation:\n%s", body)
	}
	// A user whose own language is pt-BR is invited in it too.
	if code, m := api("POST", "/api/v1/users", `{"username":"rui@example.com","email":"rui@example.com","first_name":"Rui","language":"pt-BR"}`); code != 201 {
		t.Fatalf("user with language pt-BR: %d %v", code, m)
	}
	if body := e.mt.WaitTo(t, "rui@example.com", 15*time.Second).Body(); !strings.Contains(body, "Olá Rui") {
		t.Errorf("the invitation of a pt-BR user:\n%s", body)
	}

	// Resend takes a language: one without a template is refused, a shipped one is used.
	id, _ := u["id"].(string)
	if code, m := api("POST", "/api/v1/users/"+id+"/resend-invite", `{"language":"ja"}`); code != 400 || errField(m) != "language" || !strings.Contains(errMessage(m), `"ja"`) {
		t.Errorf("resend in ja: %d %v", code, m)
	}
	if code, m := api("POST", "/api/v1/users/"+id+"/resend-invite", `{"language":"de"}`); code != 200 {
		t.Fatalf("resend in de: %d %v", code, m)
	}
	waitFor(t, func() bool { return len(e.mt.To("pia@example.com")) == 2 }, "the resent invitation")
	if body := e.mt.To("pia@example.com")[1].Body(); !strings.Contains(body, "Hallo Pia") {
		t.Errorf("the resent invitation in de:\n%s", body)
	}
}

// Messaging the users of an app, through the real binary: every user
// assigned directly or through a group gets one mail (a user with both, one)
// over SMTP, through the outbox; the answer gives each user's outcome;
// users without an email or disabled are skipped, with the reason.
func TestMessageTheUsersOfAnApp(t *testing.T) {
	e := newMailOrgEnv(t)
	if r := roster(t, e.dir, "", "org", "set", "default", "--config", e.cfg, "--display-name", "Acme Corp"); r.code != 0 {
		t.Fatalf("org set: %s", r.stderr)
	}
	d := startServe(t, e.dir, "--config", e.cfg)
	api := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		return call(t, nil, method, d.base+path, e.tok, body)
	}
	user := func(name, email string) string {
		t.Helper()
		code, u := api("POST", "/api/v1/users", `{"username":"`+name+`","email":"`+email+`","first_name":"X","send_invite":false}`)
		if code != 201 {
			t.Fatalf("create %s: %d %v", name, code, u)
		}
		return u["id"].(string)
	}
	direct, viaGroup, both, noMail, disabled := user("dora@example.com", "dora@example.com"), user("gus@example.com", "gus@example.com"),
		user("bo@example.com", "bo@example.com"), user("nomail", ""), user("dis@example.com", "dis@example.com")
	outsider := user("out@example.com", "out@example.com")
	if code, m := api("POST", "/api/v1/users/"+disabled+"/disable", ""); code != 200 {
		t.Fatalf("disable: %d %v", code, m)
	}
	_, app := api("POST", "/api/v1/apps", `{"name":"Expenses"}`)
	_, grp := api("POST", "/api/v1/groups", `{"name":"Finance"}`)
	appID, grpID := app["id"].(string), grp["id"].(string)
	if code, m := api("POST", "/api/v1/groups/"+grpID+"/members", `{"user_ids":["`+viaGroup+`","`+both+`","`+noMail+`"]}`); code != 200 {
		t.Fatalf("members: %d %v", code, m)
	}
	for _, id := range []string{direct, both, disabled} {
		if code, m := api("POST", "/api/v1/apps/"+appID+"/assignments", `{"user_id":"`+id+`"}`); code != 204 {
			t.Fatalf("assign: %d %v", code, m)
		}
	}
	if code, m := api("POST", "/api/v1/apps/"+appID+"/assignments", `{"group_id":"`+grpID+`"}`); code != 204 {
		t.Fatalf("assign group: %d %v", code, m)
	}
	if code, m := api("POST", "/api/v1/apps/"+appID+"/message", `{"subject":"","body":"x"}`); code != 400 || errField(m) != "subject" {
		t.Errorf("no subject: %d %v", code, m)
	}
	if code, m := api("POST", "/api/v1/apps/"+appID+"/message", `{"subject":"S","body":"x","language":"pt-BR"}`); code != 400 || errField(m) != "language" {
		t.Errorf("a language without templates: %d %v", code, m)
	}
	if code, m := api("POST", "/api/v1/apps/nope/message", `{"subject":"S","body":"x"}`); code != 404 {
		t.Errorf("unknown app: %d %v", code, m)
	}
	code, res := api("POST", "/api/v1/apps/"+appID+"/message", `{"subject":"Expenses is down on Saturday","body":"Submit by Friday.\nThanks."}`)
	if code != 202 || res["queued"] != 3.0 {
		t.Fatalf("message: %d %v", code, res)
	}
	via := map[string]string{}
	for _, r := range res["recipients"].([]any) {
		r := r.(map[string]any)
		via[r["user_id"].(string)] = r["via"].(string)
		if r["mail_id"] == "" {
			t.Errorf("recipient without a mail id: %v", r)
		}
	}
	if via[direct] != "direct" || via[both] != "direct" || via[viaGroup] != "group:Finance" || len(via) != 3 {
		t.Errorf("recipients: %v", res["recipients"])
	}
	skipped := map[string]string{}
	for _, s := range res["skipped"].([]any) {
		s := s.(map[string]any)
		skipped[s["user_id"].(string)] = s["reason"].(string)
	}
	if skipped[noMail] != "no email address" || skipped[disabled] != "user is disabled" || len(skipped) != 2 {
		t.Errorf("skipped: %v", res["skipped"])
	}
	for _, to := range []string{"dora@example.com", "gus@example.com", "bo@example.com"} {
		body := e.mt.WaitTo(t, to, 15*time.Second).Body()
		for _, want := range []string{"Subject: [Acme Corp] Expenses is down on Saturday", "Submit by Friday.", "to the users of Expenses at Acme Corp"} {
			if !strings.Contains(body, want) {
				t.Errorf("mail to %s lacks %q:\n%s", to, want, body)
			}
		}
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(e.mt.To("bo@example.com")); n != 1 {
		t.Errorf("bo (direct and through the group) got %d mails, want 1", n)
	}
	if n := len(e.mt.To("out@example.com")) + len(e.mt.To("dis@example.com")); n != 0 {
		t.Errorf("%d mails to users outside the app or disabled", n)
	}
	_ = outsider
}
