package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse: any bytes are either a config or Problems that name a key path
// (or "(file)"); never a panic, never another error type.
func FuzzParse(f *testing.F) {
	ex, err := os.ReadFile("../../configs/roster.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ex)
	for _, s := range []string{
		"", "listen: ':8080'\n", "listen: [1, 2]\n", "database:\n  driver: oracle\n", "nope: 1\n",
		"ldap:\n  sources:\n    - name: ad\n      url: ldaps://dc\n      bind_password: ${LDAP_PW}\n",
		"smtp:\n  password_file: /run/secret\n", "a: &x [*x]\n", "{{{", "- - -\n", "listen: !!binary aGk=\n",
		"http:\n  read_header_timeout: -5s\n", "database:\n  dsn: ${MISSING}\n",
	} {
		f.Add([]byte(s))
	}
	lookup := func(k string) (string, bool) {
		if k == "LDAP_PW" {
			return "s3cret", true
		}
		return "", false
	}
	read := func(p string) ([]byte, error) {
		if p == "/run/secret" {
			return []byte("pw\n"), nil
		}
		return nil, os.ErrNotExist
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, lookup, read)
		if err == nil {
			if c == nil {
				t.Fatal("nil config without an error")
			}
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error of type %T, want Problems: %v", err, err)
		}
		for _, p := range ps {
			if p.Path == "" || strings.TrimSpace(p.Message) == "" {
				t.Fatalf("problem without a path or message: %+v", p)
			}
		}
	})
}
