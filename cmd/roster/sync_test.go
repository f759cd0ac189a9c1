package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestSyncRunCommand drives `roster sync run` as an operator would: the
// JSON contract, the dry run, the table, and exit 1 when the deletion guard aborts.
func TestSyncRunCommand(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(12)+slapdtest.GroupOfNames("admins", slapdtest.UserDN("user0001")))
	dir := t.TempDir()
	pw := filepath.Join(dir, "ldap-password")
	if err := os.WriteFile(pw, []byte(slapdtest.AdminPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeConfig := func(filter string) string {
		cfg := `database: {driver: sqlite, dsn: ` + filepath.Join(dir, "roster.db") + `}
log: {level: error}
ldap:
  sources:
    - name: corp
      urls: ["` + srv.URL + `"]
      bind_dn: "` + slapdtest.AdminDN + `"
      bind_password_file: ` + pw + `
      users: {base_dn: "` + slapdtest.PeopleDN + `", filter: "` + filter + `"}
      groups: {base_dn: "` + slapdtest.GroupsDN + `"}
      role_rules: [{group: "cn=admins,` + slapdtest.GroupsDN + `", role: admin}]
      invite: false
      max_removals: "10%"
`
		p := filepath.Join(dir, "roster.yaml")
		if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := writeConfig("(objectClass=inetOrgPerson)")
	syncRun := func(args ...string) (map[string]any, string, error) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), append([]string{"sync", "run", "--config", cfg}, args...), strings.NewReader(""), &out, &errOut)
		if !slices.Contains(args, "--json") {
			return nil, out.String() + errOut.String(), err
		}
		var m map[string]any
		if jerr := json.Unmarshal(out.Bytes(), &m); jerr != nil {
			t.Fatalf("output is not one JSON object: %v\n%s\n%s", jerr, out.String(), errOut.String())
		}
		return m, errOut.String(), err
	}
	tests := []struct {
		name   string
		args   []string
		filter string
		fails  bool
		want   map[string]float64
		status string
		mode   string
		reason string
	}{
		{name: "dry run plans and writes nothing", args: []string{"--dry-run", "--json"}, want: map[string]float64{"created": 12}, status: "ok", reason: "first run"},
		{name: "first run creates", args: []string{"--json"}, want: map[string]float64{"created": 12, "errors": 0}, status: "ok", mode: "full", reason: "first run"},
		{name: "a full second run changes nothing", args: []string{"--json", "--source", "corp", "--full"}, want: map[string]float64{"created": 0, "updated": 0, "unchanged": 12}, status: "ok", reason: "requested"},
		{name: "then runs are incremental", args: []string{"--json"}, want: map[string]float64{"created": 0, "entries_read": 0}, status: "ok", mode: "incremental"},
		// A changed query must not run incremental on the old watermark (it
		// would read nothing and report ok): it runs full, and the guard
		// sees that the new filter drops almost everyone.
		{name: "a changed filter runs full and meets the guard", args: []string{"--json"}, filter: "(uid=user0001)", fails: true,
			want: map[string]float64{"disabled": 0}, status: "aborted", mode: "full", reason: "query changed"},
		{name: "the old filter back: incremental again", args: []string{"--json"}, filter: "(objectClass=inetOrgPerson)",
			want: map[string]float64{"entries_read": 0, "disabled": 0}, status: "ok", mode: "incremental"},
		{name: "a broken filter is aborted by the guard", args: []string{"--json", "--full"}, filter: "(uid=nobody)", fails: true,
			want: map[string]float64{"disabled": 0}, status: "aborted", reason: "requested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.filter != "" {
				cfg = writeConfig(tt.filter)
			}
			m, stderr, err := syncRun(tt.args...)
			if (err != nil) != tt.fails {
				t.Fatalf("err = %v, want failure %v; stderr: %s", err, tt.fails, stderr)
			}
			if tt.fails && !errors.Is(err, errReported) {
				t.Errorf("err = %v, want the exit-1 error", err)
			}
			for _, k := range []string{"source", "created", "updated", "disabled", "archived", "unchanged", "skipped", "errors"} {
				if _, ok := m[k]; !ok {
					t.Errorf("JSON lacks %q: %v", k, m)
				}
			}
			for k, v := range tt.want {
				if m[k] != v {
					t.Errorf("%s = %v, want %v (%v)", k, m[k], v, m)
				}
			}
			if tt.mode != "" && m["mode"] != tt.mode {
				t.Errorf("mode %v, want %s", m["mode"], tt.mode)
			}
			if r, _ := m["reason"].(string); r != tt.reason {
				t.Errorf("reason %q, want %q", r, tt.reason)
			}
			if m["status"] != tt.status || m["source"] != "corp" {
				t.Errorf("status %v source %v", m["status"], m["source"])
			}
		})
	}
	t.Run("table and unknown source", func(t *testing.T) {
		cfg = writeConfig("(objectClass=inetOrgPerson)")
		_, out, err := syncRun()
		if err != nil || !strings.Contains(out, "SOURCE") || !strings.Contains(out, "corp") {
			t.Errorf("table run: %v\n%s", err, out)
		}
		_, _, err = syncRun("--source", "nope")
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("unknown source: %v", err)
		}
	})
}

// TestSyncImportCommand: "Add an LDAP user" imports one user of an
// on-demand source and prints it.
func TestSyncImportCommand(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(3))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "roster.yaml")
	conf := `database: {driver: sqlite, dsn: ` + filepath.Join(dir, "roster.db") + `}
log: {level: error}
ldap:
  sources:
    - name: corp
      urls: ["` + srv.URL + `"]
      bind_dn: "` + slapdtest.AdminDN + `"
      bind_password: "` + slapdtest.AdminPW + `"
      users: {base_dn: "` + slapdtest.PeopleDN + `"}
      mode: on_demand
      invite: false
`
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"sync", "import", "--config", cfg, "--source", "corp", "--username", "user0002"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	var u map[string]any
	if err := json.Unmarshal(out.Bytes(), &u); err != nil || u["username"] != "user0002" || u["source"] != "ldap:corp" || u["status"] != "active" {
		t.Errorf("imported: %v %s", err, out.String())
	}
	err := run(t.Context(), []string{"sync", "import", "--config", cfg, "--source", "corp", "--username", "nobody"}, strings.NewReader(""), &out, &errOut)
	if err == nil {
		t.Error("importing an unknown user succeeded")
	}
}
