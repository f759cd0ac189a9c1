package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

// The audit log on both drivers: each filter narrows, pages are keyset by
// id (newest first) and stay stable while entries are written, and the
// queries use the indexes of migration 00021.
func TestAuditLog(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		st := openMigrated(t, driver, dsn)
		base := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		actors := []string{"ada", "bob", "cli"}
		actions := []string{"user.update", "user.role", "group.create"}
		var hs []core.HistoryEntry
		for i := range 60 {
			hs = append(hs, core.HistoryEntry{OrgID: defaultOrg, At: base.Add(time.Duration(i) * time.Minute), ActorKind: core.ActorAdmin,
				ActorID: "id-" + actors[i%3], ActorName: actors[i%3], Action: actions[(i/3)%3], TargetType: "user", TargetID: fmt.Sprintf("u%d", i%4)})
		}
		if err := st.InTx(ctx, func(tx core.Tx) error { return tx.InsertHistoryBatch(ctx, hs) }); err != nil {
			t.Fatal(err)
		}
		list := func(f core.AuditFilter) []core.HistoryEntry {
			t.Helper()
			f.OrgID = defaultOrg
			if f.Limit == 0 {
				f.Limit = 1000
			}
			var out []core.HistoryEntry
			if err := st.View(ctx, func(tx core.Tx) error {
				var err error
				out, err = tx.ListAudit(ctx, f)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		count := func(keep func(core.HistoryEntry) bool) int {
			n := 0
			for _, h := range hs {
				if keep(h) {
					n++
				}
			}
			return n
		}
		for _, tc := range []struct {
			name string
			f    core.AuditFilter
			keep func(core.HistoryEntry) bool
		}{
			{"all", core.AuditFilter{}, func(core.HistoryEntry) bool { return true }},
			{"actor", core.AuditFilter{Actor: "bob"}, func(h core.HistoryEntry) bool { return h.ActorName == "bob" }},
			{"user", core.AuditFilter{UserID: "u2"}, func(h core.HistoryEntry) bool { return h.TargetID == "u2" }},
			{"action", core.AuditFilter{Action: "user.role"}, func(h core.HistoryEntry) bool { return h.Action == "user.role" }},
			{"since and until", core.AuditFilter{Since: base.Add(10 * time.Minute), Until: base.Add(20 * time.Minute)},
				func(h core.HistoryEntry) bool {
					return !h.At.Before(base.Add(10*time.Minute)) && h.At.Before(base.Add(20*time.Minute))
				}},
			{"until in another zone", core.AuditFilter{Until: base.Add(5 * time.Minute).In(time.FixedZone("CET", 3600))},
				func(h core.HistoryEntry) bool { return h.At.Before(base.Add(5 * time.Minute)) }},
			{"all at once", core.AuditFilter{Actor: "ada", Action: "user.update", UserID: "u0"},
				func(h core.HistoryEntry) bool {
					return h.ActorName == "ada" && h.Action == "user.update" && h.TargetID == "u0"
				}},
			{"unknown actor", core.AuditFilter{Actor: "nobody"}, func(core.HistoryEntry) bool { return false }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := list(tc.f)
				if want := count(tc.keep); len(got) != want || want == 0 && tc.name != "unknown actor" {
					t.Fatalf("%d entries, want %d", len(got), want)
				}
				for i, h := range got {
					if i > 0 && h.ID >= got[i-1].ID {
						t.Fatalf("not newest first: %d after %d", h.ID, got[i-1].ID)
					}
					if !tc.keep(h) {
						t.Errorf("entry %d (%s %s %s %s) does not match the filter", h.ID, h.ActorName, h.Action, h.TargetID, h.At)
					}
				}
			})
		}

		// Keyset pages: 7 at a time, with an entry written between pages,
		// read every entry of the start exactly once.
		seen := map[int64]bool{}
		var before int64
		for page := 0; ; page++ {
			got := list(core.AuditFilter{Before: before, Limit: 7})
			for _, h := range got {
				if seen[h.ID] {
					t.Fatalf("entry %d twice", h.ID)
				}
				seen[h.ID] = true
			}
			if len(got) < 7 {
				break
			}
			before = got[len(got)-1].ID
			if err := st.InTx(ctx, func(tx core.Tx) error {
				return tx.InsertHistory(ctx, &core.HistoryEntry{OrgID: defaultOrg, At: time.Now().UTC(), ActorKind: core.ActorCLI, ActorName: "cli", Action: "user.update", TargetType: "user", TargetID: "new"})
			}); err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != len(hs) {
			t.Fatalf("paging saw %d entries, want %d", len(seen), len(hs))
		}

		if err := st.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			f     core.AuditFilter
			index string
		}{
			{core.AuditFilter{}, "history_org|history_pkey"},
			{core.AuditFilter{Actor: "ada"}, "history_actor"},
			{core.AuditFilter{Action: "user.role"}, "history_action"},
			{core.AuditFilter{UserID: "u1"}, "history_target"},
		} {
			tc.f.OrgID, tc.f.Limit, tc.f.Before = defaultOrg, 100, 1<<40
			q, args := auditQuery(tc.f)
			p := queryPlan(t, st, driver, q, args)
			if !slices.ContainsFunc(strings.Split(tc.index, "|"), func(ix string) bool { return strings.Contains(p, ix) }) {
				t.Errorf("%+v: the plan does not use %s:\n%s", tc.f, tc.index, p)
			}
		}
	})
}

// queryPlan is the plan of q on st's driver, as text.
func queryPlan(t *testing.T, st *Store, driver, q string, args []any) string {
	t.Helper()
	ctx := context.Background()
	if driver == "postgres" {
		var plan []string
		// Small tables are scanned whatever the indexes: ask for the plan
		// the indexes allow.
		conn, err := st.w.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, "SET enable_seqscan = on")
		if err := conn.SelectContext(ctx, &plan, st.w.Rebind("EXPLAIN "+q), args...); err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "\n")
	}
	rows, err := st.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var details []string
	for rows.Next() {
		var a, b, c int
		var d string
		if err := rows.Scan(&a, &b, &c, &d); err != nil {
			t.Fatal(err)
		}
		details = append(details, d)
	}
	return strings.Join(details, "; ")
}
