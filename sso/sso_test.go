package sso

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
)

func TestStateCookie(t *testing.T) {
	now := time.Now()
	st := State{Org: "default", Audience: "console", Return: "/console/", State: "s", Nonce: "n", Verifier: "v", Expires: now.Add(time.Minute)}
	sealed := SealState("secret", st)
	got, err := OpenState("secret", "default", sealed, now)
	if err != nil || got != (State{Org: "default", Audience: "console", Return: "/console/", State: "s", Nonce: "n", Verifier: "v", Expires: got.Expires}) || !got.Expires.Equal(st.Expires) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	body, sig, _ := strings.Cut(sealed, ".")
	other := st
	other.Nonce = "forged"
	forgedBody, _, _ := strings.Cut(SealState("secret", other), ".")
	tests := []struct {
		name, secret, org, value string
		at                       time.Time
	}{
		{"another secret", "other", "default", sealed, now},
		{"another organisation", "secret", "acme", sealed, now},
		{"expired", "secret", "default", sealed, now.Add(2 * time.Minute)},
		{"body changed, signature kept", "secret", "default", forgedBody + "." + sig, now},
		{"no signature", "secret", "default", body, now},
		{"garbage", "secret", "default", "!!.??", now},
		{"empty", "secret", "default", "", now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OpenState(tt.secret, tt.org, tt.value, tt.at); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestSafeReturn(t *testing.T) {
	tests := []struct {
		ret  string
		aud  core.Audience
		want string
		ok   bool
	}{
		{"", core.AudienceConsole, "/console/", true},
		{"/console/#/users", core.AudienceConsole, "/console/#/users", true},
		{"https://evil.example/", core.AudienceConsole, "", false},
		{"//evil.example/", core.AudienceConsole, "", false},
		{"/\\evil.example/", core.AudienceConsole, "", false},
		{"javascript:alert(1)", core.AudienceConsole, "", false},
		{"console/", core.AudienceConsole, "", false},
		{"", core.AudienceCatalog, "", false},
		{"/console/", core.AudienceCatalog, "", false},
		{"/oidc/acme/login?id=1", core.AudienceCatalog, "", false},
		{"/oidc/default/login?id=1", core.AudienceCatalog, "/oidc/default/login?id=1", true},
	}
	for _, tt := range tests {
		got, ok := safeReturn(tt.ret, "default", tt.aud)
		if got != tt.want || ok != tt.ok {
			t.Errorf("safeReturn(%q, %s) = %q %v, want %q %v", tt.ret, tt.aud, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLanguageOf(t *testing.T) {
	for in, want := range map[string]string{"de-DE": "de", "fr_FR": "fr", "ES": "es", "": "", "x": "", "english": ""} {
		if got := languageOf(in); got != want {
			t.Errorf("languageOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckBreakGlass(t *testing.T) {
	e := rostertest.New(t)
	for _, u := range []struct {
		name string
		role core.Role
	}{{"root@example.com", core.RoleOwner}, {"admin@example.com", core.RoleAdmin}} {
		if _, err := e.Svc.CreateUser(e.Ctx, core.CLIActor(), core.NewUser{OrgID: e.OrgID, Username: u.name, Email: u.name, Role: u.role, Invite: core.NoInvite}); err != nil {
			t.Fatal(err)
		}
	}
	off := false
	tests := []struct {
		name       string
		breakGlass []string
		want       []string
	}{
		{"an active owner", []string{"ROOT@example.com"}, nil},
		{"one of two is not an owner", []string{"root@example.com", "admin@example.com"}, []string{`break-glass owner "admin@example.com" of "default" is not an active owner`}},
		{"none is", []string{"ghost@example.com"}, []string{`"ghost@example.com" of "default" is not an active owner`, "no active break-glass owner: while Corp is down, nobody can sign in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New([]Config{{Name: "corp", DisplayName: "Corp", Issuer: "https://idp.example", ClientID: "r", ClientSecret: "s",
				PasswordLogin: &off, BreakGlassOwners: tt.breakGlass}}, Options{CSRFToken: func(string) string { return "" }}, e.Svc, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(d.CheckBreakGlass(e.Ctx), "\n")
			if len(tt.want) == 0 && got != "" {
				t.Fatalf("warnings: %s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("warnings\n%s\nlack %q", got, w)
				}
			}
			if e.Svc.PasswordLoginAllowed(core.DefaultOrg) {
				t.Error("New did not turn password sign-in off")
			}
		})
	}
}

func TestFreshEnough(t *testing.T) {
	started := time.Unix(1_800_000_000, 0)
	at := func(d time.Duration) *float64 { v := float64(started.Add(d).Unix()); return &v }
	zero, n := float64(0), 600
	tests := []struct {
		name   string
		st     State
		auth   *float64
		refuse string
	}{
		{"nothing asked", State{Started: started}, at(-time.Hour), ""},
		{"prompt=login, signed in after the start", State{Started: started, Prompt: "login"}, at(5 * time.Second), ""},
		{"prompt=login, an old sign-in", State{Started: started, Prompt: "login"}, at(-time.Hour), "prompt=login"},
		{"prompt=login, no auth_time", State{Started: started, Prompt: "login"}, nil, ""},
		{"prompt=login, auth_time 0", State{Started: started, Prompt: "login"}, &zero, ""},
		{"max_age, recent enough", State{Started: started, MaxAge: &n}, at(-5 * time.Minute), ""},
		{"max_age, too old", State{Started: started, MaxAge: &n}, at(-time.Hour), "max_age"},
		{"max_age, no auth_time", State{Started: started, MaxAge: &n}, nil, "auth_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := freshEnough(tt.st, tt.auth)
			if (tt.refuse == "") != (got == "") || !strings.Contains(got, tt.refuse) {
				t.Fatalf("freshEnough = %q, want %q", got, tt.refuse)
			}
		})
	}
}
