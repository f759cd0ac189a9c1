package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func files(m map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if v, ok := m[p]; ok {
			return []byte(v), nil
		}
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	}
}

func TestExampleConfigParsesAndDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "configs", "roster.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data, env(nil), files(nil))
	if err != nil {
		t.Fatalf("example config does not parse: %v", err)
	}
	if len(c.LDAP.Sources) == 0 {
		c.LDAP.Sources = nil // "sources: []" in the example
	}
	if len(c.SSO) == 0 {
		c.SSO = nil // "sso: []" in the example
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("example config values differ from the defaults it claims:\n%+v\n%+v", c, Default())
	}
	// Every yaml key of the Config structs appears in the example (commented or not).
	text := string(data)
	var walk func(t reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			key := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if key == "-" {
				continue // not a key: read from a file
			}
			if !strings.Contains(text, key+":") {
				t.Errorf("key %s%s is not documented in configs/roster.example.yaml", path, key)
			}
			walk(f.Type, path+key+".")
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}

func TestDefaults(t *testing.T) {
	c := Default()
	if c.Listen != "127.0.0.1:8080" || c.Database.Driver != "sqlite" || c.Database.DSN != "./data/roster.db" ||
		c.Invites.ValidFor != 168*time.Hour || c.Security.LockoutThreshold != 10 || c.Dormancy.After != 2160*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
	c2, err := Parse([]byte(""), env(nil), files(nil))
	if err != nil || !reflect.DeepEqual(c, c2) {
		t.Fatalf("empty file should be the defaults: %v", err)
	}
}

func TestProblemsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{"unknown top-level key", "listne: x\n", nil, []string{"listne: unknown key (line 1)"}},
		{"unknown nested key", "smtp:\n  hots: x\n", nil, []string{"smtp.hots: unknown key (line 2)"}},
		{"unknown key in a source", "ldap:\n  sources:\n    - name: corp\n      urls: [ldap://h]\n      users: {base_dn: x, filtr: y}\n", nil, []string{"ldap.sources[0].users.filtr: unknown key"}},
		{"bad values", "listen: nope\ndatabase: {driver: mysql}\nsmtp: {tls: ssl, port: 70000}\nlog: {level: loud}\n", nil,
			[]string{`listen: "nope" is not host:port`, `database.driver: "mysql" is not one of sqlite, postgres`, `smtp.tls: "ssl"`, "smtp.port: 70000", `log.level: "loud"`}},
		{"security bounds", "security: {session_ttl: 1s, login_rate_per_minute: -1, lockout_threshold: -2}\n", nil,
			[]string{"security.session_ttl: 1s is shorter than one minute", "security.login_rate_per_minute: must be at least 1", "security.lockout_threshold: must be at least 1"}},
		{"owner lock expiry too short", "security: {owner_lock_expiry: 10s}\n", nil, []string{"security.owner_lock_expiry: 10s is not between 1m and 168h"}},
		{"owner lock expiry too long", "security: {owner_lock_expiry: 720h}\n", nil, []string{"security.owner_lock_expiry: 720h0m0s is not between 1m and 168h"}},
		{"missing env var", "smtp:\n  password: ${SMTP_PW}\n", nil, []string{"smtp.password: environment variable SMTP_PW is not set"}},
		{"wrong type", "security: {lockout_threshold: lots}\n", nil, []string{"security.lockout_threshold: cannot unmarshal str `lots` into int (line 1)"}},
		{"invalid yaml", "listen: [\n", nil, []string{"not valid YAML"}},
		{"ldap source problems", "ldap:\n  sources:\n    - name: Corp!\n      urls: [http://x]\n      preset: novell\n      max_removals: lots\n      role_rules: [{group: g, role: king}]\n", nil,
			[]string{`ldap.sources[0].name: "Corp!"`, `ldap.sources[0].urls[0]: "http://x" is not an ldap://`, `ldap.sources[0].preset: "novell"`,
				`ldap.sources[0].max_removals: "lots"`, `ldap.sources[0].role_rules[0].role: "king"`, "ldap.sources[0].users.base_dn: is required"}},
		{"ldap roles above the role ceiling", "ldap:\n  sources:\n    - name: corp\n      urls: [ldap://h]\n      users: {base_dn: x}\n      groups: {base_dn: y}\n      role_rules: [{group: \"cn=boss,dc=x\", role: owner}]\n      default_role: admin\n      role_ceiling: user_manager\n", nil,
			[]string{"ldap.sources[0].role_rules[0].role: owner is above the source's role_ceiling (user_manager)", "ldap.sources[0].default_role: admin is above the source's role_ceiling (user_manager)"}},
		{"an owner rule needs role_ceiling owner", "ldap:\n  sources:\n    - name: corp\n      urls: [ldap://h]\n      users: {base_dn: x}\n      groups: {base_dn: y}\n      role_rules: [{group: \"cn=boss,dc=x\", role: owner}]\n", nil,
			[]string{"ldap.sources[0].role_rules[0].role: owner is above the source's role_ceiling (admin)"}},
		{"duplicate source names", "ldap:\n  sources:\n    - {name: a, urls: [ldap://h], users: {base_dn: x}}\n    - {name: a, urls: [ldap://h], users: {base_dn: x}}\n", nil,
			[]string{`ldap.sources[1].name: "a" is used by another source`}},
		{"postgres without a dsn", "database: {driver: postgres}\n", nil, []string{"database.dsn: is required"}},
		{"pool and lease bounds", "database: {max_open_conns: 4, max_idle_conns: 8, conn_max_lifetime: -1s}\ncluster: {lease_ttl: 1s}\n", nil,
			[]string{"database.max_idle_conns: 8 is more than max_open_conns (4)", "database.conn_max_lifetime: must be positive", "cluster.lease_ttl: 1s is not between 3s and 1h"}},
		{"tls half set", "tls: {cert_file: /c.pem}\n", nil, []string{"tls.key_file: is required when tls.cert_file is set"}},
		{"bad trusted proxy", "trusted_proxies: [10.0.0.0/8, proxy.local]\n", nil, []string{`trusted_proxies[1]: "proxy.local" is not an IP address or CIDR range`}},
		{"secret twice", "smtp: {host: h, from: f@x.com, password: a, password_file: /p}\n", nil, []string{"smtp.password_file: set either password or password_file"}},
		{"unreadable secret file", "smtp: {host: h, from: f@x.com, password_file: /nope}\n", nil, []string{"smtp.password_file: cannot read /nope"}},
		{"unreadable key encryption key", "oidc: {key_encryption_key_file: /nope}\n", nil, []string{"oidc.key_encryption_key_file: cannot read /nope"}},
		{"short key encryption key", "oidc: {key_encryption_key_file: /p}\n", nil, []string{"oidc.key_encryption_key_file: /p holds 1 hex digits: it must hold 32 random bytes"}},
		{"raw key encryption key of 31 bytes", "oidc: {key_encryption_key_file: /q}\n", nil, []string{"oidc.key_encryption_key_file: /q holds 31 bytes"}},
		{"sso problems", "sso:\n  - {name: Corp, issuer: http://idp.example.com, scopes: [email], match_claim: upn, match_sources: [okta], password_login: false}\n", nil,
			[]string{`sso[0].name: "Corp" must be lowercase`, `sso[0].issuer: "http://idp.example.com" is not an https URL (http only on loopback)`, "sso[0].client_id: is required",
				"sso[0].client_secret: is required (or client_secret_file)", "sso[0].scopes: must include openid", `sso[0].match_claim: "upn" is not one of sub, email`,
				`sso[0].match_sources[0]: "okta" is not a source`, "sso[0].break_glass_owners: name at least one owner"}},
		{"sso email match needs allow_mutable_match", "sso:\n  - {name: corp, issuer: https://idp, client_id: r, client_secret: s, match_claim: email}\n", nil,
			[]string{"sso[0].match_claim: email can be changed by the user at many identity providers: set allow_mutable_match: true"}},
		{"sso twice for one org", "sso:\n  - {name: a, issuer: https://idp, client_id: r, client_secret: s}\n  - {name: a, issuer: https://idp2, client_id: r, client_secret: s}\n", nil,
			[]string{`sso[1].org: "default" already has an identity provider`, `sso[1].name: "a" is used by another identity provider`}},
		{"sso secret file unreadable", "sso:\n  - {name: a, issuer: https://idp, client_id: r, client_secret_file: /nope}\n", nil, []string{"sso[0].client_secret_file: cannot read /nope"}},
		{"sso unknown key", "sso:\n  - {name: a, isuer: https://idp}\n", nil, []string{"sso[0].isuer: unknown key (line 2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), env(tt.env), files(map[string]string{"/p": "a", "/q": strings.Repeat("\xff", 31)}))
			if c != nil || err == nil {
				t.Fatalf("bad config accepted: %+v", c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain %q", err, w)
				}
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error is %T, want Problems", err)
			}
		})
	}
}

func TestLDAPRoleCeiling(t *testing.T) {
	c, err := Parse([]byte("ldap:\n  sources:\n    - name: corp\n      urls: [ldap://h]\n      users: {base_dn: x}\n      groups: {base_dn: y}\n      role_rules: [{group: \"cn=boss,dc=x\", role: owner}]\n      role_ceiling: owner\n    - name: plain\n      urls: [ldap://h]\n      users: {base_dn: x}\n"), env(nil), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{c.LDAP.Sources[0].RoleCeiling, c.LDAP.Sources[1].RoleCeiling}; got[0] != "owner" || got[1] != "admin" {
		t.Fatalf("role ceilings %v, want [owner admin] (admin by default)", got)
	}
}

func TestSecretsFromEnvAndFiles(t *testing.T) {
	y := `
public_url: https://${HOST}
smtp:
  host: mail.example.com
  from: "Roster <no-reply@example.com>"
  password_file: /run/secrets/smtp
ldap:
  sources:
    - name: corp
      urls: ["ldap://127.0.0.1:389"]
      bind_password: ${LDAP_PASSWORD}
      users: {base_dn: "ou=people,dc=example,dc=com"}
      invite: false
`
	c, err := Parse([]byte(y), env(map[string]string{"HOST": "roster.example.com", "LDAP_PASSWORD": "s3cr#t: {x}"}), files(map[string]string{"/run/secrets/smtp": "pw-from-file\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://roster.example.com" || c.SMTP.Password != "pw-from-file" || c.LDAP.Sources[0].BindPassword != "s3cr#t: {x}" {
		t.Fatalf("secrets not resolved: %q %q %q", c.PublicURL, c.SMTP.Password, c.LDAP.Sources[0].BindPassword)
	}
	s := c.LDAP.Sources[0]
	if s.Org != "default" || s.PageSize != 1000 || *s.Invite != false || s.MaxRemovals != "5%" || s.Interval != 15*time.Minute {
		t.Fatalf("source defaults: %+v", s)
	}
}

func TestSSOConfig(t *testing.T) {
	c, err := Parse([]byte("sso:\n  - name: corp\n    issuer: http://127.0.0.1:9/idp\n    client_id: roster\n    client_secret_file: /p\n    match_claim: email\n    allow_mutable_match: true\n    password_login: false\n    break_glass_owners: [root]\n"),
		env(nil), files(map[string]string{"/p": "s3cret\n"}))
	if err != nil {
		t.Fatal(err)
	}
	p := c.SSO[0]
	if p.Org != "default" || p.ClientSecret != "s3cret" || p.DisplayName != "corp" || p.PasswordLoginOn() || !reflect.DeepEqual(p.Scopes, []string{"openid", "email", "profile"}) {
		t.Fatalf("%+v", p)
	}
}

func TestPostgresExampleConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "configs", "roster.postgres.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data, env(map[string]string{"ROSTER_DB_PASSWORD": "pw"}), files(map[string]string{"/run/secrets/smtp-password": "x"}))
	if err != nil {
		t.Fatalf("postgres example does not parse: %v", err)
	}
	if c.Database.Driver != "postgres" || !strings.Contains(c.Database.DSN, "roster:pw@db.example.com") ||
		c.Database.MaxOpenConns != 20 || c.Database.MaxIdleConns != 10 || c.Cluster.LeaseTTL != 30*time.Second {
		t.Fatalf("postgres example: %+v %+v", c.Database, c.Cluster)
	}
}

// oidc.key_encryption_key_file: 64 hex digits (with a newline) or 32 raw bytes.
func TestKeyEncryptionKeyFile(t *testing.T) {
	raw := strings.Repeat("k", 32)
	hexKey := strings.Repeat("0a", 32)
	for name, content := range map[string]string{"hex": hexKey + "\n", "raw": raw} {
		c, err := Parse([]byte("oidc: {key_encryption_key_file: /kek}\n"), env(nil), files(map[string]string{"/kek": content}))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := []byte(raw)
		if name == "hex" {
			want = bytes.Repeat([]byte{10}, 32)
		}
		if !bytes.Equal(c.OIDC.KeyEncryptionKey, want) {
			t.Errorf("%s: key %x", name, c.OIDC.KeyEncryptionKey)
		}
	}
}
