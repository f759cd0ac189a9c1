package ldapsync

import (
	"fmt"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestTLS: StartTLS and ldaps:// with the configured CA work; a certificate
// the source does not trust, or a server without TLS, fails the run before
// any bind; the URLs are tried in order (failover).
func TestTLS(t *testing.T) {
	srv := slapdtest.StartTLS(t, slapdtest.People(3))
	plain := slapdtest.Start(t, slapdtest.People(3))
	dead := fmt.Sprintf("ldap://127.0.0.1:%d", slapdtest.FreePort(t))
	tests := []struct {
		name string
		edit func(c *Config)
		ok   bool
	}{
		{"StartTLS with the CA", func(c *Config) { c.StartTLS = true; c.CAFile = srv.CAFile }, true},
		{"ldaps with the CA", func(c *Config) { c.URLs = []string{srv.LDAPSURL}; c.CAFile = srv.CAFile }, true},
		{"StartTLS, CA not trusted", func(c *Config) { c.StartTLS = true }, false},
		{"ldaps, CA not trusted", func(c *Config) { c.URLs = []string{srv.LDAPSURL} }, false},
		{"StartTLS to a server without TLS", func(c *Config) { c.URLs = []string{plain.URL}; c.StartTLS = true; c.CAFile = srv.CAFile }, false},
		{"failover past a dead server", func(c *Config) { c.URLs = []string{dead, srv.URL}; c.StartTLS = true; c.CAFile = srv.CAFile }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rep, err := e.source(sourceConfig(srv, tt.edit)).run(t.Context(), core.DirectoryRunOptions{})
			if tt.ok {
				if err != nil || rep.Created != 3 {
					t.Fatalf("run: %v %+v", err, rep)
				}
				return
			}
			if err == nil || len(e.users()) != 0 {
				t.Fatalf("run succeeded without trusted TLS: %+v", rep)
			}
			t.Logf("refused: %v", err)
		})
	}
}
