package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSMTPKeys(t *testing.T) {
	noFile := func(string) ([]byte, error) { return []byte("pw\n"), nil }
	noEnv := func(string) (string, bool) { return "", false }
	cases := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{"defaults", "smtp: {host: mail.example.com, from: \"Ex <no-reply@example.com>\"}", "", func(t *testing.T, c *Config) {
			s := c.SMTP
			if s.Port != 587 || s.TLS != "starttls" || s.MaxAttempts != 8 || s.RetryInitial != 30*time.Second || s.RetryMax != time.Hour {
				t.Fatalf("defaults: %+v", s)
			}
		}},
		{"password file", "smtp: {host: h.example, from: a@b.example, username: u, password_file: /x}", "", func(t *testing.T, c *Config) {
			if c.SMTP.Password != "pw" {
				t.Fatalf("password %q", c.SMTP.Password)
			}
		}},
		{"auth without tls", "smtp: {host: h, from: a@b.example, tls: none, username: u}", "smtp.tls", nil},
		{"bad from", "smtp: {host: h, from: \"not an address\"}", "smtp.from", nil},
		{"retry_max below retry_initial", "smtp: {retry_initial: 10m, retry_max: 1m}", "smtp.retry_max", nil},
		{"max_attempts", "smtp: {max_attempts: -1}", "smtp.max_attempts", nil},
		{"missing ca_file", "smtp: {ca_file: /nonexistent/ca.pem}", "smtp.ca_file", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), noEnv, noFile)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one at %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// configs/roster.example.yaml documents every smtp key and parses.
func TestExampleDocumentsSMTPKeys(t *testing.T) {
	b, err := os.ReadFile("../../configs/roster.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b, func(string) (string, bool) { return "", false }, os.ReadFile); err != nil {
		t.Fatalf("example config: %v", err)
	}
	i := strings.Index(string(b), "\nsmtp:")
	j := strings.Index(string(b), "\ninvites:")
	section := string(b)[i:j]
	ty := reflect.TypeOf(SMTP{})
	for k := 0; k < ty.NumField(); k++ {
		key := ty.Field(k).Tag.Get("yaml")
		if !strings.Contains(section, "\n  "+key+":") {
			t.Errorf("smtp.%s is not documented in configs/roster.example.yaml", key)
		}
	}
}
