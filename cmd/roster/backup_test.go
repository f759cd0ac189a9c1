package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// roster backup copies the database while serve runs and writes go on;
// the copy, used as the database of a new config (the restore the README
// describes), reads the users back.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+db+"}\n")
	create := func(i int) {
		name := fmt.Sprintf("u%03d@example.com", i)
		if r := roster(t, dir, "", "user", "create", "--config", cfg, "--username", name, "--email", name,
			"--first", "U", "--last", fmt.Sprint(i), "--no-invite"); r.code != 0 {
			t.Errorf("user create %d: %s", i, r.stderr)
		}
	}
	for i := range 5 {
		create(i)
	}
	d := startServe(t, dir, "--config", cfg)
	// Writers keep going during the backup.
	var wg sync.WaitGroup
	for i := 5; i < 10; i++ {
		wg.Go(func() { create(i) })
	}
	backup := filepath.Join(dir, "backups", "roster-copy.db")
	if err := os.MkdirAll(filepath.Dir(backup), 0o700); err != nil {
		t.Fatal(err)
	}
	r := roster(t, dir, "", "backup", "--config", cfg, backup)
	wg.Wait()
	if r.code != 0 || !strings.Contains(r.stdout, "backup written to "+backup) {
		t.Fatalf("backup: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(backup), ".roster-copy.db.partial")); !os.IsNotExist(err) {
		t.Errorf("partial file left behind: %v", err)
	}
	// A second backup to the same file is refused; nothing is overwritten.
	before, _ := os.ReadFile(backup)
	if r := roster(t, dir, "", "backup", "--config", cfg, backup); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("backup over an existing file: %d %s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(backup); string(after) != string(before) {
		t.Fatal("the existing backup was changed")
	}
	// Flags after the argument, as the ecosystem's CLIs take them.
	second := filepath.Join(filepath.Dir(backup), "second.db")
	if r := roster(t, dir, "", "backup", second, "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "backup written to "+second) {
		t.Fatalf("backup FILE --config X: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := roster(t, dir, "", "backup", "--config", cfg); r.code != 2 {
		t.Fatalf("backup without FILE: %d %s", r.code, r.stderr)
	}
	d.stop(t)

	// Restore: point a config at the copy.
	rdir := t.TempDir()
	restored := filepath.Join(rdir, "roster.db")
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rcfg := writeConfig(t, rdir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+restored+"}\n")
	r = roster(t, rdir, "", "user", "list", "--config", rcfg, "--json")
	if r.code != 0 {
		t.Fatalf("user list on the restored copy: %s", r.stderr)
	}
	var list struct {
		Users []struct {
			Username string `json:"username"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, u := range list.Users {
		have[u.Username] = true
	}
	// The five users from before the backup are there for sure; the ones
	// written during it are there or not, but whole.
	for i := range 5 {
		if name := fmt.Sprintf("u%03d@example.com", i); !have[name] {
			t.Errorf("%s missing from the restored copy (%v)", name, have)
		}
	}
	if len(list.Users) < 5 || len(list.Users) > 10 {
		t.Fatalf("%d users in the copy", len(list.Users))
	}
}
