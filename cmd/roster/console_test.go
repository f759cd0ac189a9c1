package main

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var setupURLRE = regexp.MustCompile(`setup_url="?([^"\s]+)`)

// TestServeLogsTheSetupLinkOnlyWithoutAnOwner: a fresh database gets one
// setup link in the log, valid on the console; once an owner exists (here
// from the CLI) a restart logs none. The console is served by the binary.
func TestServeLogsTheSetupLinkOnlyWithoutAnOwner(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\npublic_url: https://roster.example.com\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n")
	d := startServe(t, dir, "--config", cfg)
	var link string
	for deadline := time.Now().Add(10 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := setupURLRE.FindAllStringSubmatch(d.logs.String(), -1); len(m) == 1 {
			link = m[0][1]
		}
	}
	if !strings.HasPrefix(link, "https://roster.example.com/console/setup?token=") {
		t.Fatalf("setup link %q:\n%s", link, d.logs)
	}
	path := strings.TrimPrefix(link, "https://roster.example.com")
	if code, body := get(t, d.base+path); code != http.StatusOK || !strings.Contains(body, `name="password"`) {
		t.Fatalf("setup page: %d %s", code, body)
	}
	if code, body := get(t, d.base+"/console/"); code != http.StatusOK || !strings.Contains(body, "/console/static/app.js") {
		t.Fatalf("console: %d %s", code, body)
	}
	// The console's own CSP replaces the server's default (default-src 'none').
	res, err := http.Get(d.base + "/console/static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "default-src 'none'") ||
		res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("console headers through the server: %v", res.Header)
	}
	d.stop(t)
	// The link lives in memory: after a restart it is void (and a new one is logged).
	d = startServe(t, dir, "--config", cfg)
	for deadline := time.Now().Add(10 * time.Second); !setupURLRE.MatchString(d.logs.String()) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get(t, d.base+path); code != http.StatusNotFound {
		t.Fatalf("the link of the previous run still works: %d", code)
	}
	d.stop(t)
	if r := roster(t, dir, "Owner-of-the-shell-1\n", "user", "create", "--config", cfg, "--username", "boss@example.com", "--email", "boss@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	d = startServe(t, dir, "--config", cfg)
	// The link would be logged before "roster ready", which startServe waited for.
	if strings.Contains(d.logs.String(), "setup_url") {
		t.Fatalf("a setup link with an owner present:\n%s", d.logs)
	}
	d.stop(t)
}
