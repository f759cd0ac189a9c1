package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// entries is an audit page's entries as (action, target_id, actor_name).
func auditRows(t *testing.T, r resp) []map[string]any {
	t.Helper()
	if r.code != 200 {
		t.Fatalf("audit: %d %s", r.code, r.raw)
	}
	list, _ := r.body["entries"].([]any)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

func (f *fixture) auditCSV(query string, hdr ...string) (*http.Response, [][]string) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/audit?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+f.owner)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		f.t.Fatalf("audit csv %s: %d", query, res.StatusCode)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		f.t.Fatal(err)
	}
	return res, rows
}

// The audit log over HTTP: owners and admins only (the capability says so),
// each filter narrows, bad filters are 400s naming the parameter, the
// cursor pages through everything once while entries are written, and the
// CSV holds every matching entry (more than one page of them).
func TestAuditLogOverHTTP(t *testing.T) {
	f := newFixture(t, 1000)
	start := time.Now().UTC().Add(-time.Second)
	ada := f.createActive("ada@example.com", "admin")
	mgr := f.createActive("mgr@example.com", "user_manager")
	bob := f.createActive("bob@example.com", "member")
	adaTok := f.login("ada@example.com", "Sturdy-passphrase-7", "console")
	mgrTok := f.login("mgr@example.com", "Sturdy-passphrase-7", "console")
	if r := f.do(nil, "PATCH", "/api/v1/users/"+bob, adaTok, map[string]any{"role": "developer"}); r.code != 200 {
		t.Fatalf("role: %d %s", r.code, r.raw)
	}

	// A new app role for an assigned user keeps the old one as before.
	app := f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "CRM"}).body["id"].(string)
	for _, role := range []string{"editor", "viewer"} {
		if r := f.do(nil, "POST", "/api/v1/apps/"+app+"/assignments", f.owner, map[string]any{"user_id": bob, "app_role": role}); r.code != 204 {
			t.Fatalf("assign %s: %d %s", role, r.code, r.raw)
		}
	}
	assigns := auditRows(t, f.do(nil, "GET", "/api/v1/audit?action=app.assign&user="+bob, f.owner, nil))
	if len(assigns) != 2 || assigns[0]["before"] != `{"app":"CRM","app_role":"editor"}` || assigns[0]["after"] != `{"app":"CRM","app_role":"viewer"}` || assigns[1]["before"] != nil {
		t.Fatalf("app.assign entries: %v", assigns)
	}

	// Secrets never reach the log: a reassigned password, a token's value.
	if r := f.do(nil, "POST", "/api/v1/users/"+bob+"/set-password", f.owner, map[string]any{"password": "Secret-passphrase-31"}); r.code >= 300 {
		t.Fatalf("set password: %d %s", r.code, r.raw)
	}
	tk := f.do(nil, "POST", "/api/v1/tokens", f.owner, map[string]any{"name": "okta", "scope": "scim"})
	secret, _ := tk.body["token"].(string)
	if secret == "" {
		t.Fatalf("token: %s", tk.raw)
	}
	if raw := f.do(nil, "GET", "/api/v1/audit?limit=500", f.owner, nil).raw; strings.Contains(raw, "Secret-passphrase-31") || strings.Contains(raw, secret) || !strings.Contains(raw, "token.create") {
		t.Fatalf("the audit log holds a secret (or misses the token): %s", raw)
	}

	// Who may: the capability and the refusal agree.
	for _, tc := range []struct {
		token string
		may   bool
	}{{f.owner, true}, {adaTok, true}, {mgrTok, false}} {
		me := f.do(nil, "GET", "/api/v1/me", tc.token, nil)
		if caps := me.body["capabilities"].(map[string]any); caps["audit_log"] != tc.may {
			t.Errorf("audit_log capability %v, want %v", caps["audit_log"], tc.may)
		}
		if r := f.do(nil, "GET", "/api/v1/audit", tc.token, nil); (r.code == 200) != tc.may || (!tc.may && r.code != 403) {
			t.Errorf("audit: %d, may %v", r.code, tc.may)
		}
	}
	_ = mgr

	// Filters.
	role := auditRows(t, f.do(nil, "GET", "/api/v1/audit?action=user.update", f.owner, nil))
	if len(role) != 1 || role[0]["target_id"] != bob || role[0]["actor_name"] != "ada@example.com" {
		t.Fatalf("action=user.update: %v", role)
	}
	ch := role[0]["changes"].([]any)[0].(map[string]any)
	if ch["attribute"] != "role" || ch["from"] != "member" || ch["to"] != "developer" {
		t.Fatalf("changes: %v", role[0]["changes"])
	}
	all := auditRows(t, f.do(nil, "GET", "/api/v1/audit", f.owner, nil))
	aboutBob := auditRows(t, f.do(nil, "GET", "/api/v1/audit?user="+bob, f.owner, nil))
	byAda := auditRows(t, f.do(nil, "GET", "/api/v1/audit?actor=ada%40example.com", f.owner, nil))
	if len(aboutBob) < 3 || len(aboutBob) >= len(all) || len(byAda) == 0 || len(byAda) >= len(all) {
		t.Fatalf("all %d, about bob %d, by ada %d", len(all), len(aboutBob), len(byAda))
	}
	for _, e := range aboutBob {
		if e["target_id"] != bob {
			t.Fatalf("user filter let through %v", e)
		}
	}
	for _, e := range byAda {
		if e["actor_name"] != "ada@example.com" {
			t.Fatalf("actor filter let through %v", e)
		}
	}
	future := url.QueryEscape(time.Now().UTC().Add(time.Hour).Format(time.RFC3339))
	if got := auditRows(t, f.do(nil, "GET", "/api/v1/audit?since="+future, f.owner, nil)); len(got) != 0 {
		t.Fatalf("since the future: %d entries", len(got))
	}
	if got := auditRows(t, f.do(nil, "GET", "/api/v1/audit?until="+url.QueryEscape(start.Format(time.RFC3339Nano)), f.owner, nil)); len(got) >= len(all) {
		t.Fatalf("until the start: %d of %d entries", len(got), len(all))
	}

	// Bad filters name their parameter and list nothing.
	for q, field := range map[string]string{
		"since=yesterday": "since", "until=2026-13-01T00:00:00Z": "until", "limit=0": "limit", "limit=501": "limit", "limit=x": "limit",
		"cursor=nope": "cursor", "cursor=" + url.QueryEscape("aDow"): "cursor", "actorr=ada": "actorr", "format=xml": "format",
		"since=2026-12-03T10:00:00Z&until=2026-12-03T09:00:00Z": "until",
	} {
		if r := f.do(nil, "GET", "/api/v1/audit?"+q, f.owner, nil); r.code != 400 || r.errField() != field {
			t.Errorf("%s: %d field %q, want 400 naming %s (%s)", q, r.code, r.errField(), field, r.raw)
		}
	}

	// 520 more entries (an import), then keyset pages of 100 with an entry
	// written between pages: every entry of the start is read once.
	var file strings.Builder
	file.WriteString("username,email,first_name,last_name\n")
	for i := range 520 {
		fmt.Fprintf(&file, "imp%03d@example.com,imp%03d@example.com,Imp,Num%03d\n", i, i, i)
	}
	if r := f.importAs(f.owner, "send_invite=false&dry_run=false", file.String()); r.code != 200 {
		t.Fatalf("import: %d %s", r.code, r.raw)
	}
	total := len(auditRows(t, f.do(nil, "GET", "/api/v1/audit?limit=500", f.owner, nil)))
	if total != 500 {
		t.Fatalf("limit=500: %d", total)
	}
	_, before := f.auditCSV("format=csv")
	count := len(before) - 1
	if count <= 1000 {
		t.Fatalf("%d entries after the import", count)
	}
	seen := map[float64]bool{}
	cursor, pages := "", 0
	for {
		r := f.do(nil, "GET", "/api/v1/audit?cursor="+url.QueryEscape(cursor), f.owner, nil)
		got := auditRows(t, r)
		if pages == 0 && len(got) != 100 {
			t.Fatalf("default page: %d entries", len(got))
		}
		for _, e := range got {
			id := e["id"].(float64)
			if seen[id] {
				t.Fatalf("entry %v on two pages", id)
			}
			seen[id] = true
		}
		pages++
		cursor, _ = r.body["next"].(string)
		if cursor == "" {
			break
		}
		if r := f.do(nil, "PATCH", "/api/v1/users/"+bob, f.owner, map[string]any{"first_name": fmt.Sprintf("B%d", pages)}); r.code != 200 {
			t.Fatalf("patch: %d %s", r.code, r.raw)
		}
	}
	if len(seen) != count || pages != (count+99)/100 {
		t.Fatalf("paging read %d entries in %d pages, want %d", len(seen), pages, count)
	}

	// CSV: by Accept or format=csv, every matching entry (over two pages of 500).
	res, rows := f.auditCSV("", "Accept", "text/csv")
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "audit.csv") {
		t.Fatalf("csv headers: %v", res.Header)
	}
	if rows[0][0] != "id" || rows[0][5] != "action" || rows[0][8] != "changes" || len(rows)-1 != count+pages-1 {
		t.Fatalf("csv: header %v, %d rows for %d entries", rows[0], len(rows)-1, len(seen))
	}
	_, rows = f.auditCSV("format=csv&action=user.update&actor=ada%40example.com")
	if len(rows) != 2 || rows[1][7] != bob || rows[1][8] != `role: "member" → "developer"` || rows[1][3] != "ada@example.com" {
		t.Fatalf("csv of ada's user.update: %v", rows)
	}
	if r := f.do(nil, "GET", "/api/v1/audit?format=csv&since=nope", f.owner, nil); r.code != 400 || r.errField() != "since" {
		t.Fatalf("bad csv filter: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/audit?format=csv", mgrTok, nil); r.code != 403 {
		t.Fatalf("user manager's csv: %d", r.code)
	}
	_ = ada
}
