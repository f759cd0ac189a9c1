package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// vmHWM is a process's peak resident set in MiB (/proc/PID/status).
func vmHWM(t *testing.T, pid int) float64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// clientFrom is an HTTP client whose connections come from a local address
// (127.0.0.x), for the per-address login limit.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}
}

// TestConcurrentLoginsAreBoundedInMemory: 60 logins at once, 30 from each of
// two addresses (the per-address limit lets them all through), each an
// argon2id check of 19 MiB. Password hashing runs at most
// security.max_concurrent_hashes at once; the others wait their turn (or are
// answered 503 with Retry-After), so the daemon's peak RSS stays under 400 MB
// (it reached 1.2 GB with every check running at once).
func TestConcurrentLoginsAreBoundedInMemory(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+dir+"/r.db}\n")
	const pw = "Correct-horse-battery-9"
	if r := roster(t, dir, pw+"\n", "user", "create", "--config", cfg, "--username", "owner@example.com", "--email", "owner@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	d := startServe(t, dir, "--config", cfg)
	pid := d.cmd.Process.Pid
	// One login first, so that the baseline includes what a first login loads.
	if code, _ := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", `{"username":"owner@example.com","password":"`+pw+`"}`); code != 200 {
		t.Fatalf("first login: %d", code)
	}
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) // reset VmHWM (best effort)
	base := vmHWM(t, pid)
	body := []byte(`{"username":"owner@example.com","password":"` + pw + `"}`)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	began := time.Now()
	for i := range 60 {
		c := clientFrom("127.0.0." + strconv.Itoa(2+i%2))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := c.Post(d.base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			var m map[string]any
			_ = json.NewDecoder(res.Body).Decode(&m)
			res.Body.Close()
			if res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			mu.Lock()
			codes[res.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	peak := vmHWM(t, pid)
	t.Logf("60 concurrent logins in %s: answers %v; peak RSS %.0f MB (before them %.0f MB)", time.Since(began).Round(time.Millisecond), codes, peak, base)
	for code, n := range codes {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("%d answers %d", n, code)
		}
	}
	if codes[http.StatusOK] == 0 {
		t.Error("no login succeeded")
	}
	if peak > 400 {
		t.Errorf("peak RSS %.0f MB with 60 concurrent logins; want under 400 MB", peak)
	}
}

// adminSetup creates an owner (with a password) and an admin token acting as them.
func adminSetup(t *testing.T, dir, cfg, password string) string {
	t.Helper()
	if r := roster(t, dir, password+"\n", "user", "create", "--config", cfg, "--username", "owner@example.com", "--email", "owner@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "ops", "--scope", "admin", "--user", "owner@example.com")
	if r.code != 0 {
		t.Fatalf("admin token: %s", r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// xlsxBomb is a workbook of about 256 KB whose sheet inflates to 250 MB.
func xlsxBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name, body string) io.Writer {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, body)
		return w
	}
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	put("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`)
	w := put("xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>username</t></is></c></row>`)
	pad := bytes.Repeat([]byte(" "), 1<<20)
	for range 250 {
		_, _ = w.Write(pad)
	}
	_, _ = io.WriteString(w, `</sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestXLSXImportBombIsRefused: a 256 KB workbook that inflates to 250 MB is
// answered 413 naming the limit, from the zip's directory alone: the
// daemon's RSS does not grow with the bomb (it cost ~490 MB before).
func TestXLSXImportBombIsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+dir+"/r.db}\n")
	token := adminSetup(t, dir, cfg, "Correct-horse-battery-9")
	d := startServe(t, dir, "--config", cfg)
	bomb := xlsxBomb(t)
	pid := d.cmd.Process.Pid
	base := vmHWM(t, pid)
	req, _ := http.NewRequest("POST", d.base+"/api/v1/users/import?dry_run=true", bytes.NewReader(bomb))
	req.Header.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	peak := vmHWM(t, pid)
	t.Logf("%d KB bomb (250 MB inflated): %d %+v; peak RSS %.0f MB (before %.0f MB)", len(bomb)>>10, res.StatusCode, body.Error, peak, base)
	if res.StatusCode != http.StatusRequestEntityTooLarge || body.Error.Code != "too_large" || body.Error.Field != "file" ||
		!strings.Contains(body.Error.Message, "inflates to more than 64 MiB") {
		t.Errorf("answer %d %+v; want 413 too_large naming the 64 MiB limit", res.StatusCode, body.Error)
	}
	if peak-base > 100 {
		t.Errorf("the bomb grew the RSS by %.0f MB", peak-base)
	}
}

// TestMailTemplateBombIsRefused: a 2 KB template whose nested {{template}}
// calls double 20 times (64 MiB rendered) is refused on preview and on save,
// naming the limit, at once and without the daemon's RSS growing.
func TestMailTemplateBombIsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+dir+"/r.db}\n")
	token := adminSetup(t, dir, cfg, "Correct-horse-battery-9")
	d := startServe(t, dir, "--config", cfg)
	var b strings.Builder
	b.WriteString(`{{define "t0"}}` + strings.Repeat("x", 64) + `{{end}}`)
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, `{{define "t%d"}}{{template "t%d"}}{{template "t%d"}}{{end}}`, i, i-1, i-1)
	}
	b.WriteString(`{{template "t20"}}`)
	tpl, _ := json.Marshal(b.String())
	pid := d.cmd.Process.Pid
	base := vmHWM(t, pid)
	for _, tc := range []struct{ name, method, path, body string }{
		{"preview", "POST", "/api/v1/org/mail-templates/preview", `{"kind":"invite","language":"en","text":` + string(tpl) + `}`},
		{"save", "PUT", "/api/v1/org/mail-templates/invite/en", `{"subject":"Hi","text":` + string(tpl) + `}`},
		{"save html", "PUT", "/api/v1/org/mail-templates/invite/en", `{"subject":"Hi","html":` + string(tpl) + `}`},
	} {
		start := time.Now()
		code, m := call(t, nil, tc.method, d.base+tc.path, token, tc.body)
		e, _ := m["error"].(map[string]any)
		t.Logf("%s of a %d-byte template: %d %v in %s", tc.name, len(tpl), code, e, time.Since(start).Round(time.Millisecond))
		if code != http.StatusBadRequest || e == nil || !strings.Contains(fmt.Sprint(e["message"]), "the limit is 1000000") {
			t.Errorf("%s: %d %v; want 400 naming the limit", tc.name, code, m)
		}
	}
	code, m := call(t, nil, "GET", d.base+"/api/v1/org/mail-templates", token, "")
	if ts, _ := m["templates"].([]any); code != 200 || len(ts) != 0 {
		t.Errorf("a refused template was saved: %d %v", code, m)
	}
	if peak := vmHWM(t, pid); peak-base > 50 {
		t.Errorf("RSS grew by %.0f MB", peak-base)
	}
}

// TestDatabaseFilesAreOwnerOnly: with umask 0022 the database, its -wal and
// -shm files and a backup are created 0600; a database an earlier version
// left 0644 is tightened at start.
func TestDatabaseFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "r.db")
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+db+"}\n")
	mode := func(p string) os.FileMode {
		t.Helper()
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	d := startServe(t, dir, "--config", cfg)
	if r := roster(t, dir, "", "user", "create", "--config", cfg, "--username", "a@example.com", "--email", "a@example.com", "--no-invite"); r.code != 0 {
		t.Fatalf("user create: %s", r.stderr)
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if m := mode(p); m != 0o600 {
			t.Errorf("%s is %o; want 0600", filepath.Base(p), m)
		}
	}
	if m := mode(filepath.Dir(db)); m != 0o750 {
		t.Errorf("data directory is %o; want 0750", m)
	}
	backup := filepath.Join(dir, "backup.db")
	if r := roster(t, dir, "", "backup", "--config", cfg, backup); r.code != 0 {
		t.Fatalf("backup: %s", r.stderr)
	}
	if m := mode(backup); m != 0o600 {
		t.Errorf("backup is %o; want 0600", m)
	}
	d.stop(t)
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	d = startServe(t, dir, "--config", cfg)
	if m := mode(db); m != 0o600 {
		t.Errorf("a 0644 database left %o at start; want 0600", m)
	}
	d.stop(t)
}

// TestSetupPageSaysAlreadySetUpOnceAnOwnerExists: the first-run link of a
// running daemon, after an owner was made from the CLI, shows "already set
// up" (not the form), and so does the page without a token.
func TestSetupPageSaysAlreadySetUpOnceAnOwnerExists(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\npublic_url: https://roster.example.com\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n")
	d := startServe(t, dir, "--config", cfg)
	var link string
	for deadline := time.Now().Add(10 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := setupURLRE.FindStringSubmatch(d.logs.String()); m != nil {
			link = strings.TrimPrefix(m[1], "https://roster.example.com")
		}
	}
	if code, body := get(t, d.base+link); code != http.StatusOK || !strings.Contains(body, `name="password"`) {
		t.Fatalf("setup page without an owner: %d %s", code, body)
	}
	if r := roster(t, dir, "Owner-of-the-shell-1\n", "user", "create", "--config", cfg, "--username", "boss@example.com", "--email", "boss@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	for _, path := range []string{link, "/console/setup"} {
		code, body := get(t, d.base+path)
		if !strings.Contains(body, "already set up") || strings.Contains(body, `name="password"`) || code != http.StatusNotFound {
			t.Errorf("%s with an owner: %d %s", path, code, body)
		}
	}
}

// TestMetricsOnTheirOwnListener: with metrics.listen set, /metrics is served
// there and not on the main port; config check refuses a bad address.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\nmetrics: {listen: 127.0.0.1:0}\n")
	d := startServe(t, dir, "--config", cfg)
	m := regexp.MustCompile(`msg="metrics listening" metrics_listen=(\S+)`).FindStringSubmatch(d.logs.String())
	if m == nil {
		t.Fatalf("no metrics address logged:\n%s", d.logs)
	}
	if code, body := get(t, "http://"+m[1]+"/metrics"); code != 200 || !strings.Contains(body, "roster_build_info") {
		t.Errorf("metrics listener: %d %.200s", code, body)
	}
	if code, _ := get(t, "http://"+m[1]+"/api/v1/me"); code != http.StatusNotFound {
		t.Errorf("the metrics listener serves the API: %d", code)
	}
	if code, _ := get(t, d.base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the main port: %d", code)
	}
	if code, _ := get(t, d.base+"/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	d.stop(t)
	for _, tc := range []struct{ value, want string }{
		{"nonsense", `metrics.listen: "nonsense" is not host:port`},
		{"127.0.0.1:8080", "is the main listen address"},
	} {
		bad := writeConfig(t, dir, "listen: 127.0.0.1:8080\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\nmetrics: {listen: \""+tc.value+"\"}\n")
		if r := roster(t, dir, "", "config", "check", "--config", bad); r.code != 1 || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("config check of metrics.listen %q: %d %s%s", tc.value, r.code, r.stdout, r.stderr)
		}
	}
}

// cookieLogin logs in with a cookie session and returns its session cookie
// and CSRF token.
func cookieLogin(t *testing.T, base, user, password string) (session, csrf string) {
	t.Helper()
	res, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"username":"`+user+`","password":"`+password+`","cookie":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	for _, c := range res.Cookies() {
		if c.Name == "roster_session" {
			session = c.Value
		}
	}
	if res.StatusCode != 200 || session == "" || out.CSRFToken == "" {
		t.Fatalf("cookie login of %s: %d", user, res.StatusCode)
	}
	return session, out.CSRFToken
}

// TestCSRFTokenIsBoundToItsSession: a cookie session's unsafe request must
// carry that session's CSRF token; the token of another session (with a
// matching roster_csrf cookie planted beside it) is refused 403.
func TestCSRFTokenIsBoundToItsSession(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n")
	const pw = "Correct-horse-battery-9"
	adminSetup(t, dir, cfg, pw)
	d := startServe(t, dir, "--config", cfg)
	sessA, csrfA := cookieLogin(t, d.base, "owner@example.com", pw)
	sessB, csrfB := cookieLogin(t, d.base, "owner@example.com", pw)
	if csrfA == csrfB {
		t.Fatal("two sessions share a CSRF token")
	}
	n := 0
	create := func(session, cookieCSRF, header string) int {
		n++
		body := fmt.Sprintf(`{"username":"u%d@example.com","email":"u%d@example.com","first_name":"U","last_name":"V","send_invite":false}`, n, n)
		req, _ := http.NewRequest("POST", d.base+"/api/v1/users", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "roster_session", Value: session})
		req.AddCookie(&http.Cookie{Name: "roster_csrf", Value: cookieCSRF})
		if header != "" {
			req.Header.Set("X-CSRF-Token", header)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		name                 string
		session, cookie, hdr string
		want                 int
	}{
		{"its own token", sessB, csrfB, csrfB, http.StatusCreated},
		{"another session's token and cookie", sessB, csrfA, csrfA, http.StatusForbidden},
		{"another session's token, own cookie", sessB, csrfB, csrfA, http.StatusForbidden},
		{"a made-up token in cookie and header", sessB, "forged", "forged", http.StatusForbidden},
		{"no header", sessA, csrfA, "", http.StatusForbidden},
		{"the other session's own token", sessA, csrfA, csrfA, http.StatusCreated},
	} {
		if got := create(tc.session, tc.cookie, tc.hdr); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestConfusableUsernamesCollide: usernames (and emails) are compared after
// NFKC, so the full-width "ｍｅｍｂｅｒ" is the same name as "member" on every
// door: the CLI, the admin API, SCIM, an import, and a login.
func TestConfusableUsernamesCollide(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n")
	const pw = "Correct-horse-battery-9"
	token := adminSetup(t, dir, cfg, pw)
	if r := roster(t, dir, pw+"\n", "user", "create", "--config", cfg, "--username", "member", "--email", "member@example.com",
		"--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("member: %s", r.stderr)
	}
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim")
	if r.code != 0 {
		t.Fatalf("scim token: %s", r.stderr)
	}
	scimToken := strings.TrimSpace(r.stdout)
	d := startServe(t, dir, "--config", cfg)

	t.Run("cli", func(t *testing.T) {
		r := roster(t, dir, "", "user", "create", "--config", cfg, "--username", "ｍｅｍｂｅｒ", "--email", "other@example.com", "--no-invite")
		if r.code == 0 || !strings.Contains(r.stderr, "username") {
			t.Errorf("CLI created a confusable username: %d %s %s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("api", func(t *testing.T) {
		for _, body := range []string{
			`{"username":"ＭＥmber","email":"x1@example.com","first_name":"A","last_name":"B","send_invite":false}`,
			`{"username":"x2@example.com","email":"ｍｅｍｂｅｒ@ｅｘａｍｐｌｅ.com","first_name":"A","last_name":"B","send_invite":false}`,
		} {
			if code, m := call(t, nil, "POST", d.base+"/api/v1/users", token, body); code != http.StatusConflict {
				t.Errorf("API %s: %d %v", body, code, m)
			}
		}
		code, m := call(t, nil, "GET", d.base+"/api/v1/users?q="+url.QueryEscape("ｍｅｍｂｅｒ"), token, "")
		if us, _ := m["users"].([]any); code != 200 || len(us) != 1 {
			t.Errorf("search for the full-width name: %d %v", code, m)
		}
	})
	t.Run("scim", func(t *testing.T) {
		user := func(name, email string) string {
			return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name + `","name":{"givenName":"A","familyName":"B"},"emails":[{"value":"` + email + `","primary":true}]}`
		}
		if code, m := call(t, nil, "POST", d.base+"/scim/v2/Users", scimToken, user("memｂer", "s1@example.com")); code != http.StatusConflict {
			t.Errorf("SCIM create of a confusable name: %d %v", code, m)
		}
		if code, m := call(t, nil, "POST", d.base+"/scim/v2/Users", scimToken, user("scimuser", "s2@example.com")); code != http.StatusCreated {
			t.Fatalf("SCIM create: %d %v", code, m)
		}
		code, m := call(t, nil, "GET", d.base+"/scim/v2/Users?filter="+url.QueryEscape(`userName eq "ｓｃｉｍｕｓｅｒ"`), scimToken, "")
		if code != 200 || m["totalResults"] != float64(1) {
			t.Errorf("SCIM filter by the full-width name: %d %v", code, m)
		}
	})
	t.Run("import", func(t *testing.T) {
		req, _ := http.NewRequest("POST", d.base+"/api/v1/users/import?dry_run=true", strings.NewReader("username,email\nｍｅｍｂｅｒ,y@example.com\n"))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Failed int `json:"failed"`
		}
		_ = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if res.StatusCode != 200 || out.Failed != 1 {
			t.Errorf("import: %d failed=%d", res.StatusCode, out.Failed)
		}
	})
	t.Run("login", func(t *testing.T) {
		if code, m := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", `{"username":"ｍｅｍｂｅｒ","password":"`+pw+`"}`); code != 200 {
			t.Errorf("login as the full-width name: %d %v", code, m)
		}
	})
}

// TestConfusableUsernameFromLDAPCollides: a directory entry whose uid is the
// full-width "ｍｅｍｂｅｒ" is the native user "member" to a sync: with
// link_existing: never it is refused, not created as a second user.
func TestConfusableUsernameFromLDAPCollides(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	const fw = "ｍｅｍｂｅｒ"
	entry := "dn:: " + b64("uid="+fw+","+slapdtest.PeopleDN) + "\nobjectClass: inetOrgPerson\nuid:: " + b64(fw) +
		"\ncn: Member Twin\ngivenName: Member\nsn: Twin\nmail: twin@example.com\n\n"
	srv := slapdtest.Start(t, slapdtest.Person("plain", "Plain", "User")+entry)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `database: {dsn: `+filepath.Join(dir, "r.db")+`}
log: {level: error}
ldap:
  sources:
    - name: corp
      urls: ["`+srv.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      groups: {base_dn: "`+slapdtest.GroupsDN+`"}
      invite: false
      link_existing: never
`)
	if r := roster(t, dir, "", "user", "create", "--config", cfg, "--username", "member", "--email", "member@example.com", "--no-invite"); r.code != 0 {
		t.Fatalf("member: %s", r.stderr)
	}
	r := roster(t, dir, "", "sync", "run", "--config", cfg, "--json")
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("sync: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	t.Logf("sync: %v", out)
	if out["created"] != float64(1) || out["conflicts"] != float64(1) {
		t.Errorf("sync of a confusable uid: %v; want 1 created (plain) and the twin refused", out)
	}
	r = roster(t, dir, "", "user", "list", "--config", cfg, "--json")
	if strings.Contains(r.stdout, fw) {
		t.Errorf("the full-width twin was created:\n%s", r.stdout)
	}
}
