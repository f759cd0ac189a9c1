package sso

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/rosterhq/roster/core"
)

// Config is one organisation's upstream OpenID provider (a list entry of
// the configuration's sso key).
type Config struct {
	// Org is the organisation's name (default: the default organisation).
	Org string `yaml:"org"`
	// Name names the IdP: users it creates have the source oidc:<name>.
	Name string `yaml:"name"`
	// DisplayName is shown on the button ("Sign in with <display_name>");
	// Name when empty.
	DisplayName string `yaml:"display_name"`
	// Issuer is the IdP's issuer URL; its discovery document is at
	// issuer + /.well-known/openid-configuration.
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret (or ${ENV}) or ClientSecretFile, one of them.
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// Scopes asked for (default openid, email, profile; openid is required).
	Scopes []string `yaml:"scopes"`
	// MatchClaim is how an identity is matched to a user: sub (default:
	// the IdP's subject against the external id of users of MatchSources
	// and of oidc:<name>) or email (only with AllowMutableMatch, since
	// people can change their email at many IdPs).
	MatchClaim        string   `yaml:"match_claim"`
	MatchSources      []string `yaml:"match_sources"`
	AllowMutableMatch bool     `yaml:"allow_mutable_match"`
	// JIT creates an unknown identity as an active member of source
	// oidc:<name>; false refuses it.
	JIT bool `yaml:"jit"`
	// PasswordLogin false turns password sign-in off for the organisation
	// (default true); BreakGlassOwners keep theirs and must be given then.
	PasswordLogin    *bool    `yaml:"password_login"`
	BreakGlassOwners []string `yaml:"break_glass_owners"`
}

// Field is one problem of a Config, at a key below the entry.
type Field struct{ Field, Message string }

// Defaults fills in what is not set.
func (c *Config) Defaults() {
	if c.Org == "" {
		c.Org = core.DefaultOrg
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile"}
	}
	if c.MatchClaim == "" {
		c.MatchClaim = core.MatchSubject
	}
	if c.PasswordLogin == nil {
		t := true
		c.PasswordLogin = &t
	}
	if c.DisplayName == "" {
		c.DisplayName = c.Name
	}
}

// PasswordLoginOn reports whether password sign-in stays on.
func (c *Config) PasswordLoginOn() bool { return c.PasswordLogin == nil || *c.PasswordLogin }

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate lists every problem, by key (after Defaults and secret files).
func (c *Config) Validate() []Field {
	var fs []Field
	add := func(f, format string, args ...any) {
		fs = append(fs, Field{f, fmt.Sprintf(format, args...)})
	}
	if !nameRE.MatchString(c.Name) {
		if c.Name == "" {
			add("name", "is required")
		} else {
			add("name", "%q must be lowercase letters, digits, - and _ (at most 63)", c.Name)
		}
	}
	if u, err := url.Parse(c.Issuer); c.Issuer == "" {
		add("issuer", "is required")
	} else if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		add("issuer", "%q is not an https URL (http only on loopback)", c.Issuer)
	}
	if c.ClientID == "" {
		add("client_id", "is required")
	}
	if c.ClientSecret == "" && c.ClientSecretFile == "" {
		add("client_secret", "is required (or client_secret_file)")
	}
	if !slices.Contains(c.Scopes, "openid") {
		add("scopes", "must include openid")
	}
	switch c.MatchClaim {
	case core.MatchSubject:
	case core.MatchEmail:
		if !c.AllowMutableMatch {
			add("match_claim", "email can be changed by the user at many identity providers: set allow_mutable_match: true to match by it anyway, or use sub")
		}
	default:
		add("match_claim", "%q is not one of sub, email", c.MatchClaim)
	}
	for i, s := range c.MatchSources {
		if !strings.HasPrefix(s, "scim:") && !strings.HasPrefix(s, "ldap:") && !strings.HasPrefix(s, "oidc:") {
			add(fmt.Sprintf("match_sources[%d]", i), "%q is not a source (scim:<token>, ldap:<source> or oidc:<name>)", s)
		}
	}
	if !c.PasswordLoginOn() && len(c.BreakGlassOwners) == 0 {
		add("break_glass_owners", "name at least one owner who keeps a password when password_login is false (the way in when the identity provider is down)")
	}
	for i, b := range c.BreakGlassOwners {
		if strings.TrimSpace(b) == "" {
			add(fmt.Sprintf("break_glass_owners[%d]", i), "is empty")
		}
	}
	return fs
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
