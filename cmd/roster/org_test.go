package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The operator makes tenants on the host: roster org create, list and
// rename, through the real binary; bad input names the key and changes
// nothing; the new organisation gets its first owner from user create.
func TestOrgCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "database: {dsn: "+filepath.Join(dir, "r.db")+"}\n")
	r := roster(t, dir, "", "org", "create", "--config", cfg, "--name", "acme", "--display-name", "Acme Corp")
	var o map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &o) != nil || o["name"] != "acme" || o["display_name"] != "Acme Corp" || o["id"] == "" {
		t.Fatalf("org create: %d %s %s", r.code, r.stdout, r.stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "create", "--name", "acme"}, "name"},               // taken
		{[]string{"org", "create", "--name", "9 bad"}, "name"},              // not a name
		{[]string{"org", "rename", "--org", "nope", "--name", "x"}, "nope"}, // no such org
		{[]string{"org", "rename", "--org", "acme"}, "--name"},              // nothing to change
	} {
		r := roster(t, dir, "", append(tt.args, "--config", cfg)...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want a failure naming %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	r = roster(t, dir, "", "org", "rename", "--config", cfg, "--org", "acme", "--name", "acme_eu", "--display-name", "Acme Europe")
	if r.code != 0 || !strings.Contains(r.stdout, `"acme_eu"`) || !strings.Contains(r.stdout, "Acme Europe") {
		t.Fatalf("org rename: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = roster(t, dir, "", "org", "list", "--config", cfg, "--json")
	var list struct {
		Orgs []struct {
			Name        string `json:"name"`
			DisplayName string `json:"display_name"`
		} `json:"orgs"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list.Orgs) != 2 || list.Orgs[0].Name != "acme_eu" || list.Orgs[0].DisplayName != "Acme Europe" {
		t.Fatalf("org list: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = roster(t, dir, "Correct-horse-battery-9\n", "user", "create", "--config", cfg, "--org", "acme_eu", "--username", "boss@acme.eu",
		"--email", "boss@acme.eu", "--role", "owner", "--no-invite", "--password-stdin")
	if r.code != 0 {
		t.Fatalf("first owner: %s", r.stderr)
	}
	if r := roster(t, dir, "", "user", "list", "--config", cfg, "--org", "acme_eu"); !strings.Contains(r.stdout, "boss@acme.eu") {
		t.Errorf("the new organisation's users: %s", r.stdout)
	}
	if r := roster(t, dir, "", "user", "list", "--config", cfg, "--org", "default"); strings.Contains(r.stdout, "boss@acme.eu") {
		t.Errorf("the owner leaked into the default organisation: %s", r.stdout)
	}
}
