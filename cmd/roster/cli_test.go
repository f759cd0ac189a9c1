package main

import (
	"strings"
	"testing"
)

// The CLI follows the ecosystem's conventions, through the real binary:
// --help on every command (stdout, exit 0, its flags), shell completion,
// and the documented exit codes.
func TestEveryCommandHasHelp(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		cmd   []string
		flags []string
	}{
		{[]string{"serve"}, []string{"--config"}},
		{[]string{"migrate"}, []string{"--config"}},
		{[]string{"config", "check"}, []string{"--config"}},
		{[]string{"user", "create"}, []string{"--org", "--username", "--email", "--role", "--password-stdin"}},
		{[]string{"user", "list"}, []string{"--org", "--json"}},
		{[]string{"user", "unlock"}, []string{"--org", "--username"}},
		{[]string{"token", "create"}, []string{"--name", "--scope", "--user", "--role-ceiling"}},
		{[]string{"org", "create"}, []string{"--name", "--display-name"}},
		{[]string{"org", "list"}, []string{"--json"}},
		{[]string{"org", "rename"}, []string{"--org", "--name", "--display-name"}},
		{[]string{"org", "set"}, []string{"--display-name", "--support-email", "--catalog-url", "--admin-password-expiry"}},
		{[]string{"sync", "run"}, []string{"--source", "--full", "--dry-run", "--json"}},
		{[]string{"sync", "import"}, []string{"--source", "--username"}},
		{[]string{"backup"}, []string{"--config"}},
		{[]string{"user"}, []string{"create", "list", "unlock"}},
		{[]string{"org"}, []string{"create", "list", "rename", "set"}},
		{[]string{"sync"}, []string{"run", "import"}},
		{nil, []string{"serve", "backup", "completion", "Exit status"}},
	} {
		for _, h := range []string{"--help", "-h"} {
			r := roster(t, dir, "", append(append([]string{}, tc.cmd...), h)...)
			if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
				t.Errorf("roster %v %s: exit %d\n%s%s", tc.cmd, h, r.code, r.stdout, r.stderr)
				continue
			}
			for _, f := range tc.flags {
				if !strings.Contains(r.stdout, f) {
					t.Errorf("roster %v %s does not mention %s:\n%s", tc.cmd, h, f, r.stdout)
				}
			}
		}
	}
	// help COMMAND says the same as COMMAND --help.
	if a, b := roster(t, dir, "", "help", "sync", "run"), roster(t, dir, "", "sync", "run", "--help"); a.code != 0 || a.stdout != b.stdout {
		t.Errorf("help sync run:\n%s\nvs\n%s", a.stdout, b.stdout)
	}
}

func TestShellCompletion(t *testing.T) {
	dir := t.TempDir()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := roster(t, dir, "", "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, "roster") || len(r.stdout) < 500 {
			t.Errorf("completion %s: exit %d %.200s %s", sh, r.code, r.stdout, r.stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"us"}, "user"},
		{[]string{"user", "cr"}, "create"},
		{[]string{"user", "create", "--us"}, "--username"},
		{[]string{"sync", "run", "--full", "--dr"}, "--dry-run"},
		{[]string{"backup", "out.db", "--con"}, "--config"},
	} {
		r := roster(t, dir, "", append([]string{"__complete"}, tc.args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, tc.want+"\t") {
			t.Errorf("complete %v: %d %q, want %s", tc.args, r.code, r.stdout, tc.want)
		}
	}
	if r := roster(t, dir, "", "completion", "tcsh"); r.code != 2 {
		t.Errorf("completion of an unknown shell: exit %d", r.code)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"version"}, 0, "roster "},
		{[]string{"--version"}, 0, "roster "},
		{nil, 2, "a command is required"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"user"}, 2, "usage: roster user"},
		{[]string{"user", "frob"}, 2, `unknown command "frob"`},
		{[]string{"user", "list", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"backup"}, 2, "usage: roster backup"},
		{[]string{"config", "check", "--config", "/nonexistent/roster.yaml"}, 1, "/nonexistent/roster.yaml"},
	} {
		r := roster(t, dir, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("roster %v: exit %d, want %d saying %q\n%s%s", tc.args, r.code, tc.code, tc.want, r.stdout, r.stderr)
		}
	}
}
