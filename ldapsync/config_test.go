package ldapsync

import (
	"slices"
	"testing"
)

// The door validates its own config: each problem names the key relative
// to the source (the loader prefixes ldap.sources[i].), and a good config
// has none. Filters and role-rule groups are checked here, before any
// directory is dialled.
func TestConfigValidate(t *testing.T) {
	good := func() Config {
		c := Config{Name: "corp", URLs: []string{"ldap://127.0.0.1:389"}, Users: Search{BaseDN: "ou=people,dc=example,dc=com"},
			Groups: Search{BaseDN: "ou=groups,dc=example,dc=com"}}
		c.Defaults()
		return c
	}
	if c := good(); len(c.Validate()) != 0 {
		t.Fatalf("a good config: %v", c.Validate())
	}
	for _, tt := range []struct {
		name string
		edit func(c *Config)
		key  string
	}{
		{"no URL", func(c *Config) { c.URLs = nil }, "urls"},
		{"not an ldap URL", func(c *Config) { c.URLs = []string{"http://x"} }, "urls[0]"},
		{"ldaps with start_tls", func(c *Config) { c.URLs = []string{"ldaps://x:636"}; c.StartTLS = true }, "urls[0]"},
		{"bad filter", func(c *Config) { c.Users.Filter = "(uid=a" }, "users.filter"},
		{"rule group not a DN", func(c *Config) { c.RoleRules = []RoleRule{{Group: "admins", Role: "admin"}} }, "role_rules[0].group"},
		{"rule above the ceiling", func(c *Config) {
			c.RoleRules = []RoleRule{{Group: "cn=a,ou=groups,dc=example,dc=com", Role: "owner"}}
		}, "role_rules[0].role"},
		{"unknown attribute key", func(c *Config) { c.Attributes = map[string]string{"mobile": "mobile"} }, "attributes.mobile"},
		{"max_removals over 100%", func(c *Config) { c.MaxRemovals = "150%" }, "max_removals"},
		{"interval too short", func(c *Config) { c.Interval = 1 }, "interval"},
		{"preset", func(c *Config) { c.Preset = "novell" }, "preset"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			var keys []string
			for _, p := range c.Validate() {
				keys = append(keys, p.Field)
			}
			if !slices.Contains(keys, tt.key) {
				t.Errorf("problems at %v, want one at %q", keys, tt.key)
			}
		})
	}
}
