package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Migration 00006 rebuilds group_members as a WITHOUT ROWID table: the
// members of a database at version 5 are all there afterwards, cascades
// still work, and the table has no rowid any more.
func TestMigrationMembersKeepsEveryMember(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "m.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.w.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO orgs (id, name, created_at) VALUES ('o1', 'acme', CURRENT_TIMESTAMP)`)
	for _, u := range []string{"u1", "u2", "u3"} {
		exec(`INSERT INTO users (id, org_id, username, username_key, role, role_rank, status, source, created_at, updated_at)
			VALUES (?, 'o1', ?, ?, 'member', 0, 'active', 'native', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, u, u, u)
	}
	for _, g := range []string{"g1", "g2"} {
		exec(`INSERT INTO groups (id, org_id, name, name_key, source, created_at, updated_at)
			VALUES (?, 'o1', ?, ?, 'native', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, g, g, g)
	}
	members := [][2]string{{"g1", "u1"}, {"g1", "u2"}, {"g2", "u2"}, {"g2", "u3"}}
	for _, m := range members {
		exec(`INSERT INTO group_members (group_id, user_id) VALUES (?, ?)`, m[0], m[1])
	}
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.w.SelectContext(ctx, &got, `SELECT group_id || '/' || user_id FROM group_members ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "g1/u1 g1/u2 g2/u2 g2/u3" {
		t.Fatalf("members after migration: %v", got)
	}
	if _, err := s.w.ExecContext(ctx, `SELECT rowid FROM group_members`); err == nil {
		t.Fatal("group_members still has a rowid")
	}
	exec(`DELETE FROM users WHERE id = 'u2'`)
	var n int
	if err := s.w.GetContext(ctx, &n, `SELECT COUNT(*) FROM group_members WHERE user_id = 'u2'`); err != nil || n != 0 {
		t.Fatalf("cascade on user delete: %d members left, %v", n, err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ('g1', 'nobody')`); err == nil {
		t.Fatal("a member that is no user was accepted")
	}
}
