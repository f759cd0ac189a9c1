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

// The queries a directory sync and the user pages run on every user keep an
// index on both drivers after migration 00022 dropped the users' duplicate
// external-id index (users_org_source_external): each query names the index
// its plan must use (or either of two; PostgreSQL reads half a table by its
// primary key).
func TestSyncAndMembershipQueriesUseIndexes(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		st := openMigrated(t, driver, dsn)
		now := time.Now().UTC()
		var us []*core.User
		for i := range 2000 {
			u := newUser(fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@example.com", i))
			if i%2 == 0 {
				u.Source, u.ExternalID = "ldap:corp", fmt.Sprintf("ext-%d", i)
			}
			us = append(us, u)
		}
		if err := st.InTx(ctx, func(tx core.Tx) error {
			if err := tx.InsertUsers(ctx, us); err != nil {
				return err
			}
			g := &core.Group{ID: "g1", OrgID: defaultOrg, Name: "staff", Source: "native", CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertGroup(ctx, g); err != nil {
				return err
			}
			for _, u := range us[:10] {
				if err := tx.AddGroupMember(ctx, g.ID, u.ID); err != nil {
					return err
				}
				if err := tx.InsertHistory(ctx, &core.HistoryEntry{OrgID: defaultOrg, At: now, ActorKind: core.ActorCLI, ActorName: "cli",
					Action: "user.update", TargetType: "user", TargetID: u.ID}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		scimExt, scimArgs, err := filterSQL(st.d, defaultOrg, core.Cmp(core.AttrExternalID, core.OpEq, "ext-2"), userFilterCols)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, q string
			args    []any
			index   string
		}{
			{"user by external id", `SELECT id FROM users WHERE ` + userByExternalIDWhere, []any{defaultOrg, "ldap:corp", "ext-2"}, "users_org_external"},
			{"sync snapshot", syncUsersQuery(false) + syncUsersPage, []any{defaultOrg, "ldap:corp", 0, 5000}, "users_org_source_seq|users_pkey"},
			{"sync snapshot, owned attributes", syncUsersQuery(true) + syncUsersPage, []any{defaultOrg, "ldap:corp", 0, 5000}, "users_org_source_seq|users_pkey"},
			{"incremental sync by external ids", syncUsersQuery(false) + syncUsersByIDs(2), []any{defaultOrg, "ldap:corp", "ext-2", "ext-4"}, "users_org_external"},
			{"SCIM externalId eq", `SELECT u.id FROM users u WHERE u.org_id = ? AND u.source = ? AND (` + scimExt + `)`,
				append([]any{defaultOrg, "ldap:corp"}, scimArgs...), "users_org_external"},
			{"groups of a user", userGroupsQuery, []any{us[0].ID}, "group_members_user"},
			{"history of a user", historyOfTargetQuery, []any{defaultOrg, us[0].ID}, "history_target"},
		} {
			p := queryPlan(t, st, driver, tc.q, tc.args)
			if !slices.ContainsFunc(strings.Split(tc.index, "|"), func(ix string) bool { return strings.Contains(p, ix) }) {
				t.Errorf("%s: the plan does not use %s:\n%s", tc.name, tc.index, p)
			}
		}
	})
}
