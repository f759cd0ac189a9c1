package sso

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
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
