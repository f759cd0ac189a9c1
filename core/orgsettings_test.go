package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

func TestOrgSettingsOverrideServerDefaults(t *testing.T) {
	e := newEnv(t)
	for _, bad := range []struct {
		s    core.OrgSettings
		want string
	}{
		{core.OrgSettings{InviteValidDays: -1}, "invite_valid_days"},
		{core.OrgSettings{DormancyDays: 3}, "dormancy_days"},
		{core.OrgSettings{DefaultLanguage: "xx"}, "default_language"},
	} {
		if err := e.svc.SetOrgSettings(e.ctx, admin, e.org, bad.s); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v", bad.s, err)
		}
	}
	member := core.Actor{Kind: core.ActorAdmin, ID: "m", Role: core.RoleMember}
	if err := e.svc.SetOrgSettings(e.ctx, member, e.org, core.OrgSettings{}); err == nil {
		t.Fatal("a member changed organisation settings")
	}
	if err := e.svc.SetOrgSettings(e.ctx, admin, e.org, core.OrgSettings{InviteValidDays: 3, DormancyDays: 30, DefaultLanguage: "de"}); err != nil {
		t.Fatal(err)
	}
	eff, err := e.svc.OrgSettings(e.ctx, e.org)
	if err != nil || eff.InviteValidFor != "72h0m0s" || eff.DormancyAfter != "720h0m0s" || eff.DefaultLanguage != "de" {
		t.Fatalf("effective: %+v %v", eff, err)
	}
	inv := e.create(t, "short@example.com", core.InviteByLink).User
	if inv.Language != "de" {
		t.Fatalf("default language not applied: %q", inv.Language)
	}
	if want := e.clock.Now().Add(72 * time.Hour); !inv.InviteExpiresAt.Equal(want) {
		t.Fatalf("invite expires %v, want %v", inv.InviteExpiresAt, want)
	}
	act := e.activeUser(t, "idle30@example.com", core.RoleMember)
	e.clock.Advance(30*24*time.Hour + time.Second)
	if got, _ := e.svc.GetUser(e.ctx, e.org, inv.ID); got.InviteStatus != core.InviteExpired {
		t.Fatalf("invite after 30 days with a 3-day validity: %s", got.InviteStatus)
	}
	if n, err := e.svc.RunDormancy(e.ctx); err != nil || n != 1 {
		t.Fatalf("dormancy with 30 days: %d %v", n, err)
	}
	if got, _ := e.svc.GetUser(e.ctx, e.org, act.ID); got.Status != core.StatusInactive {
		t.Fatalf("status %s", got.Status)
	}
	// Another organisation keeps the server's 90 days.
	acme, _ := e.svc.CreateOrg(e.ctx, core.CLIActor(), "acme", "Acme")
	if _, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: acme.ID, Username: "a@acme.com", Email: "a@acme.com", Invite: core.NoInvite}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(31 * 24 * time.Hour)
	if n, _ := e.svc.RunDormancy(e.ctx); n != 0 {
		t.Fatalf("acme user marked after 31 days: %d", n)
	}
}
