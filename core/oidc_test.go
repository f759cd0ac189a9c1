package core_test

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
)

// The signing key schedule: a first key on first use; after the rotation
// period a new key is published at once but signs only after
// OIDCKeyActivation; the old one stays published until every token it
// signed has expired, then goes.
func TestOIDCKeyRotation(t *testing.T) {
	e := newEnv(t)
	cfg := e.svc.Config()
	ks, err := e.svc.OIDCKeys(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.Verify) != 1 || ks.Signing.ID != ks.Verify[0].ID {
		t.Fatalf("first key: %+v", ks)
	}
	k1 := ks.Signing.ID
	if _, err := ks.Signing.RSA(); err != nil {
		t.Fatal(err)
	}
	// Before the period: nothing changes.
	e.clock.Advance(cfg.OIDCKeyRotation - time.Minute)
	if n, err := e.svc.RotateOIDCKeys(e.ctx); err != nil || n != 0 {
		t.Fatalf("rotate early: %d %v", n, err)
	}
	e.clock.Advance(time.Minute)
	if n, err := e.svc.RotateOIDCKeys(e.ctx); err != nil || n != 1 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	ks, _ = e.svc.OIDCKeys(e.ctx)
	if len(ks.Verify) != 2 || ks.Signing.ID != k1 {
		t.Fatalf("just rotated: the new key must be published but not sign yet: %+v", ids(ks))
	}
	var k2 string
	for _, k := range ks.Verify {
		if k.ID != k1 {
			k2 = k.ID
		}
	}
	e.clock.Advance(core.OIDCKeyActivation)
	ks, _ = e.svc.OIDCKeys(e.ctx)
	if ks.Signing.ID != k2 || len(ks.Verify) != 2 {
		t.Fatalf("after activation: %+v", ids(ks))
	}
	// The old key verifies tokens until the longest of them expires.
	e.clock.Advance(max(cfg.OIDCAccessTokenTTL, cfg.OIDCIDTokenTTL))
	if _, err := e.svc.RotateOIDCKeys(e.ctx); err != nil {
		t.Fatal(err)
	}
	if ks, _ = e.svc.OIDCKeys(e.ctx); len(ks.Verify) != 2 {
		t.Fatalf("the old key went while its tokens may be valid: %+v", ids(ks))
	}
	e.clock.Advance(core.OIDCKeyActivation + 2*time.Minute)
	if n, err := e.svc.RotateOIDCKeys(e.ctx); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if ks, _ = e.svc.OIDCKeys(e.ctx); len(ks.Verify) != 1 || ks.Signing.ID != k2 {
		t.Fatalf("after the purge: %+v", ids(ks))
	}
}

func ids(ks *core.OIDCKeySet) []string {
	out := []string{"signing=" + ks.Signing.ID}
	for _, k := range ks.Verify {
		out = append(out, k.ID)
	}
	return out
}

func TestSetAppOIDCValidatesAndShowsTheSecretOnce(t *testing.T) {
	e := newEnv(t)
	app, err := e.svc.CreateApp(e.ctx, admin, e.org, "Wiki")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		in    core.OIDCClientInput
		field string
	}{
		{"no redirect", core.OIDCClientInput{}, "redirect_uris"},
		{"http elsewhere", core.OIDCClientInput{RedirectURIs: []string{"http://wiki.example.com/cb"}}, "redirect_uris[0]"},
		{"fragment", core.OIDCClientInput{RedirectURIs: []string{"https://wiki.example.com/cb#x"}}, "redirect_uris[0]"},
		{"relative", core.OIDCClientInput{RedirectURIs: []string{"/cb"}}, "redirect_uris[0]"},
		{"bad logout", core.OIDCClientInput{RedirectURIs: []string{"https://w.example/cb"}, PostLogoutURIs: []string{"ftp://w.example/"}}, "post_logout_redirect_uris[0]"},
		{"public rotate", core.OIDCClientInput{Public: true, RotateSecret: true, RedirectURIs: []string{"https://w.example/cb"}}, "rotate_secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.svc.SetAppOIDC(e.ctx, admin, e.org, app.ID, tc.in)
			var ve *core.ValidationError
			if !errors.As(err, &ve) || ve.Field() != tc.field {
				t.Fatalf("want a problem with %s, got %v", tc.field, err)
			}
		})
	}
	if _, err := e.svc.AppOIDC(e.ctx, admin, e.org, app.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("refused settings were stored: %v", err)
	}
	in := core.OIDCClientInput{RedirectURIs: []string{"https://wiki.example.com/cb", "http://127.0.0.1:8080/cb"}}
	s1, c, err := e.svc.SetAppOIDC(e.ctx, admin, e.org, app.ID, in)
	if err != nil || !strings.HasPrefix(s1, core.PrefixOIDCSecret) || c.SecretHash != core.HashSecret(s1) {
		t.Fatalf("new client: %q %+v %v", s1, c, err)
	}
	if err := e.svc.CheckOIDCClientSecret(e.ctx, e.org, app.ID, s1); err != nil {
		t.Fatal(err)
	}
	// Changing the URIs keeps the secret (and shows none).
	in.PostLogoutURIs = []string{"https://wiki.example.com/bye"}
	if s, _, err := e.svc.SetAppOIDC(e.ctx, admin, e.org, app.ID, in); err != nil || s != "" {
		t.Fatalf("update: %q %v", s, err)
	}
	if err := e.svc.CheckOIDCClientSecret(e.ctx, e.org, app.ID, s1); err != nil {
		t.Fatalf("the secret changed on an update: %v", err)
	}
	in.RotateSecret = true
	s2, _, err := e.svc.SetAppOIDC(e.ctx, admin, e.org, app.ID, in)
	if err != nil || s2 == "" || s2 == s1 {
		t.Fatalf("rotate: %q %v", s2, err)
	}
	if err := e.svc.CheckOIDCClientSecret(e.ctx, e.org, app.ID, s1); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("the old secret still works: %v", err)
	}
	// Only owners and admins configure clients.
	dev := core.Actor{Kind: core.ActorAdmin, ID: "dev-1", Name: "dev", Role: core.RoleDeveloper}
	if _, _, err := e.svc.SetAppOIDC(e.ctx, dev, e.org, app.ID, in); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a developer configured a client: %v", err)
	}
	// Deleting the app deletes the client.
	if err := e.svc.DeleteApp(e.ctx, admin, e.org, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.OIDCClient(e.ctx, e.org, app.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("client of a deleted app: %v", err)
	}
}

// Tokens speak for a user only while the user may use the app; a used
// refresh token, presented again, revokes its family.
func TestOIDCTokensFollowTheRules(t *testing.T) {
	e := newEnv(t)
	app, _ := e.svc.CreateApp(e.ctx, admin, e.org, "Wiki")
	if _, _, err := e.svc.SetAppOIDC(e.ctx, admin, e.org, app.ID, core.OIDCClientInput{RedirectURIs: []string{"https://w.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	u := e.create(t, "dana@example.com", core.NoInvite).User
	g := core.OIDCGrant{OrgID: e.org, AppID: app.ID, UserID: u.ID, Scopes: []string{"openid"}, AuthTime: e.clock.Now(), Refresh: true}
	var ae *core.AppAccessError
	if _, err := e.svc.IssueOIDCTokens(e.ctx, g); !errors.As(err, &ae) {
		t.Fatalf("tokens for an unassigned user: %v", err)
	}
	if err := e.svc.AssignApp(e.ctx, admin, core.AppGrant{OrgID: e.org, AppID: app.ID, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.IssueOIDCTokens(e.ctx, g)
	if err != nil || out.Refresh == "" {
		t.Fatalf("issue: %+v %v", out, err)
	}
	if _, sub, err := e.svc.OIDCAccessToken(e.ctx, e.org, out.AccessID); err != nil || sub.AppRole != core.DefaultAppRole {
		t.Fatalf("access token: %+v %v", sub, err)
	}
	g.CurrentRefresh, g.Refresh = out.Refresh, false
	out2, err := e.svc.IssueOIDCTokens(e.ctx, g)
	if err != nil || out2.Refresh == "" || out2.Refresh == out.Refresh {
		t.Fatalf("rotate: %+v %v", out2, err)
	}
	if _, err := e.svc.OIDCRefreshToken(e.ctx, e.org, app.ID, out.Refresh); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := e.svc.OIDCRefreshToken(e.ctx, e.org, app.ID, out2.Refresh); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("the family survived a reuse: %v", err)
	}
	if _, _, err := e.svc.OIDCAccessToken(e.ctx, e.org, out2.AccessID); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("an access token of the revoked family: %v", err)
	}
	// Expiry.
	g.CurrentRefresh, g.Refresh = "", false
	out3, _ := e.svc.IssueOIDCTokens(e.ctx, g)
	e.clock.Advance(e.svc.Config().OIDCAccessTokenTTL)
	if _, _, err := e.svc.OIDCAccessToken(e.ctx, e.org, out3.AccessID); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("an expired access token: %v", err)
	}
	if n, err := e.svc.PurgeOIDC(e.ctx); err != nil || n == 0 {
		t.Fatalf("purge: %d %v", n, err)
	}
}

// Signing keys at rest: without a key encryption key they are stored
// plain; with one, PrepareOIDCKeys seals the plain ones in place (the
// same key, so tokens it signed still verify) and new keys are sealed
// from the start; the stored text then holds no private key. A service
// without the key, or with another one, refuses the keys and makes no new
// one.
func TestOIDCKeysEncryptedAtRest(t *testing.T) {
	e := rostertest.New(t)
	plain, err := e.Svc.OIDCKeys(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := func() []core.OIDCKey {
		t.Helper()
		var ks []core.OIDCKey
		if err := e.Store.View(e.Ctx, func(tx core.Tx) error {
			var err error
			ks, err = tx.ListOIDCKeys(e.Ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	if got := stored(); len(got) != 1 || got[0].PrivateKey != plain.Signing.PrivateKey {
		t.Fatal("without a key encryption key the key is not stored as it is")
	}
	with := func(kek []byte) *core.Service {
		t.Helper()
		svc, err := core.NewService(core.Config{}, core.Deps{Store: e.Store, Clock: e.Clock, Hasher: rostertest.Hasher, OIDCKeyEncryptionKey: kek})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	if _, _, err := e.Svc.PrepareOIDCKeys(e.Ctx); err != nil {
		t.Fatalf("prepare without a key and plain keys: %v", err)
	}
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	svc := with(kek)
	if n, left, err := svc.PrepareOIDCKeys(e.Ctx); err != nil || n != 1 || left != 0 {
		t.Fatalf("prepare with a key: sealed %d, plain %d, %v", n, left, err)
	}
	if n, _, err := svc.PrepareOIDCKeys(e.Ctx); err != nil || n != 0 {
		t.Fatalf("prepare again: sealed %d, %v", n, err)
	}
	got := stored()
	if len(got) != 1 || !strings.HasPrefix(got[0].PrivateKey, "aes256gcm:") || strings.Contains(got[0].PrivateKey, plain.Signing.PrivateKey[:40]) {
		t.Fatalf("the stored key is not sealed: %.60s", got[0].PrivateKey)
	}
	opened, err := svc.OIDCKeys(e.Ctx)
	if err != nil || opened.Signing.ID != plain.Signing.ID || opened.Signing.PrivateKey != plain.Signing.PrivateKey {
		t.Fatalf("the sealed key does not open to the same key: %v", err)
	}
	// A new key is sealed when it is made.
	e.Clock.Advance(svc.Config().OIDCKeyRotation)
	if n, err := svc.RotateOIDCKeys(e.Ctx); err != nil || n != 1 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	for _, k := range stored() {
		if !strings.HasPrefix(k.PrivateKey, "aes256gcm:") {
			t.Fatalf("key %s is stored plain", k.ID)
		}
	}
	// The key id is the additional data: a sealed key copied to another id does not open.
	ks := stored()
	if err := e.Store.InTx(e.Ctx, func(tx core.Tx) error {
		_, err := tx.UpdateOIDCKeyPrivate(e.Ctx, ks[1].ID, ks[1].PrivateKey, ks[0].PrivateKey)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.PrepareOIDCKeys(e.Ctx); !errors.Is(err, core.ErrOIDCKeyEncryption) {
		t.Fatalf("a sealed key under another id: %v", err)
	}
	if err := e.Store.InTx(e.Ctx, func(tx core.Tx) error {
		_, err := tx.UpdateOIDCKeyPrivate(e.Ctx, ks[1].ID, ks[0].PrivateKey, ks[1].PrivateKey)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	for name, s := range map[string]*core.Service{"no key": e.Svc, "another key": with(other)} {
		if _, _, err := s.PrepareOIDCKeys(e.Ctx); !errors.Is(err, core.ErrOIDCKeyEncryption) || !strings.Contains(err.Error(), "oidc.key_encryption_key_file") {
			t.Errorf("%s: prepare: %v", name, err)
		}
		if _, err := s.OIDCKeys(e.Ctx); !errors.Is(err, core.ErrOIDCKeyEncryption) {
			t.Errorf("%s: keys: %v", name, err)
		}
	}
	if n := len(stored()); n != 2 {
		t.Fatalf("a refused key encryption key made keys: %d stored", n)
	}
	if _, err := core.NewService(core.Config{}, core.Deps{Store: e.Store, OIDCKeyEncryptionKey: kek[:16]}); err == nil {
		t.Fatal("a 16-byte key encryption key was taken")
	}
}
