package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
)

// The OP's signing keys at rest, with the real binary: made plain without
// oidc.key_encryption_key_file (a warning at each start), encrypted in
// place by the first start with it (the JWKS keeps the same key), so that
// the database file no longer holds the private key; a start without the
// key, with another key or with a malformed file fails with an error
// naming the setting, and makes no key.
func TestOIDCSigningKeysEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	db := filepath.Join(dir, "r.db")
	conf := func(kek string) string {
		body := fmt.Sprintf("listen: 127.0.0.1:%d\ndatabase: {dsn: %s}\n", port, db)
		if kek != "" {
			body += "oidc: {key_encryption_key_file: " + kek + "}\n"
		}
		return writeConfig(t, dir, body)
	}
	kid := func(d *daemon) string {
		t.Helper()
		code, body := get(t, d.base+"/oidc/default/keys")
		var jwks struct{ Keys []struct{ Kid string } }
		if err := json.Unmarshal([]byte(body), &jwks); code != 200 || err != nil || len(jwks.Keys) != 1 {
			t.Fatalf("keys: %d %s", code, body)
		}
		return jwks.Keys[0].Kid
	}
	stored := func() []core.OIDCKey {
		t.Helper()
		st, err := store.Open(context.Background(), store.Options{Driver: "sqlite", DSN: db}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var ks []core.OIDCKey
		if err := st.View(context.Background(), func(tx core.Tx) error {
			var err error
			ks, err = tx.ListOIDCKeys(context.Background())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	// fails runs serve, which must exit with an error saying want.
	fails := func(cfg, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, binary, "serve", "--config", cfg)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ROSTER_CONFIG=")
		out, err := cmd.CombinedOutput()
		if err == nil || ctx.Err() != nil || !strings.Contains(string(out), want) {
			t.Fatalf("serve with %s: %v, want an exit saying %q:\n%s", cfg, err, want, out)
		}
	}

	d := startServe(t, dir, "--config", conf(""))
	k1 := kid(d)
	d.stop(t)
	plain := stored()
	if len(plain) != 1 || strings.HasPrefix(plain[0].PrivateKey, "aes256gcm:") {
		t.Fatalf("without a key encryption key: %d keys, %.20q", len(plain), plain[0].PrivateKey)
	}
	d = startServe(t, dir, "--config", conf(""))
	if !strings.Contains(d.logs.String(), "oidc signing keys are stored unencrypted") {
		t.Errorf("no warning about plain keys:\n%s", d.logs)
	}
	d.stop(t)

	kek := filepath.Join(dir, "oidc-kek")
	if err := os.WriteFile(kek, []byte(strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d = startServe(t, dir, "--config", conf(kek))
	if !strings.Contains(d.logs.String(), "oidc signing keys encrypted at rest") {
		t.Errorf("no log of the encryption:\n%s", d.logs)
	}
	if k := kid(d); k != k1 {
		t.Fatalf("the JWKS changed key: %s, was %s", k, k1)
	}
	d.stop(t)
	if ks := stored(); len(ks) != 1 || !strings.HasPrefix(ks[0].PrivateKey, "aes256gcm:") {
		t.Fatalf("the key is not stored encrypted: %.20q", ks[0].PrivateKey)
	}
	for _, f := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(plain[0].PrivateKey[200:264])) {
			t.Errorf("%s still holds the plain private key", f)
		}
	}
	// The same key again: it starts, and nothing is encrypted twice.
	d = startServe(t, dir, "--config", conf(kek))
	if k := kid(d); k != k1 {
		t.Fatalf("the JWKS changed key: %s, was %s", k, k1)
	}
	d.stop(t)

	other := filepath.Join(dir, "other-kek")
	short := filepath.Join(dir, "short-kek")
	_ = os.WriteFile(other, []byte(strings.Repeat("a5", 32)), 0o600)
	_ = os.WriteFile(short, []byte(strings.Repeat("a5", 16)), 0o600)
	fails(conf(""), "no key encryption key is configured (oidc.key_encryption_key_file)")
	fails(conf(other), "oidc.key_encryption_key_file does not open key "+k1)
	fails(conf(short), "oidc.key_encryption_key_file: "+short+" holds 32 hex digits: it must hold 32 random bytes")
	if ks := stored(); len(ks) != 1 || ks[0].ID != k1 {
		t.Fatalf("a failed start changed the keys: %d", len(ks))
	}
}
