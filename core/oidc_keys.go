package core

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// OIDCKey is a signing key of the OpenID Provider (RSA, RS256). The store
// keeps the PKCS#8 DER, base64, or, with a key encryption key, that text
// sealed with AES-256-GCM (sealedKeyPrefix + base64 of nonce and sealed
// text, the key's id as additional data). The Service hands out keys
// opened.
type OIDCKey struct {
	ID         string     `db:"id"`
	Alg        string     `db:"alg"`
	PrivateKey string     `db:"private_key"`
	CreatedAt  time.Time  `db:"created_at"`
	RetiredAt  *time.Time `db:"retired_at"`
}

// RSA parses the key.
func (k *OIDCKey) RSA() (*rsa.PrivateKey, error) {
	der, err := base64.StdEncoding.DecodeString(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	pk, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	rk, ok := pk.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s is not RSA", k.ID)
	}
	return rk, nil
}

// OIDCKeyActivation is how long a new key is published before it signs:
// longer than any replica's cache of the key set, so that a token signed
// with it is never checked against a key set that lacks it.
const OIDCKeyActivation = 5 * time.Minute

// OIDCKeySet is the keys in force: Signing signs; Verify (Signing
// included) are published for verification.
type OIDCKeySet struct {
	Signing OIDCKey
	Verify  []OIDCKey
}

// SigningKeyOf picks the signing key among keys at now: the newest one
// published for OIDCKeyActivation, or, when none is that old (a first
// start), the oldest one.
func SigningKeyOf(keys []OIDCKey, now time.Time) (OIDCKey, bool) {
	if len(keys) == 0 {
		return OIDCKey{}, false
	}
	ks := append([]OIDCKey(nil), keys...)
	sort.Slice(ks, func(i, j int) bool { return ks[i].CreatedAt.Before(ks[j].CreatedAt) })
	for i := len(ks) - 1; i >= 0; i-- {
		if !ks[i].CreatedAt.Add(OIDCKeyActivation).After(now) {
			return ks[i], true
		}
	}
	return ks[0], true
}

func newOIDCKey(now time.Time) (*OIDCKey, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	return &OIDCKey{ID: newID(), Alg: "RS256", PrivateKey: base64.StdEncoding.EncodeToString(der), CreatedAt: now}, nil
}

// sealedKeyPrefix marks a private key sealed with the key encryption key
// (a plain key is standard base64, which has no colon).
const sealedKeyPrefix = "aes256gcm:"

func (k *OIDCKey) sealed() bool { return strings.HasPrefix(k.PrivateKey, sealedKeyPrefix) }

// ErrOIDCKeyEncryption is a signing key the key encryption key in force
// cannot open: none is configured, or it is not the one that sealed it.
var ErrOIDCKeyEncryption = errors.New("oidc signing keys")

func (s *Service) kekAEAD() (cipher.AEAD, error) {
	b, err := aes.NewCipher(s.oidcKEK)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// sealKey seals k's private key with the key encryption key (a no-op
// without one, or when it is sealed already).
func (s *Service) sealKey(k *OIDCKey) error {
	if s.oidcKEK == nil || k.sealed() {
		return nil
	}
	g, err := s.kekAEAD()
	if err != nil {
		return err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	out := g.Seal(nonce, nonce, []byte(k.PrivateKey), []byte(k.ID))
	k.PrivateKey = sealedKeyPrefix + base64.StdEncoding.EncodeToString(out)
	return nil
}

// openKey opens a sealed private key in place.
func (s *Service) openKey(k *OIDCKey) error {
	if !k.sealed() {
		return nil
	}
	if s.oidcKEK == nil {
		return fmt.Errorf("%w: key %s is encrypted and no key encryption key is configured (oidc.key_encryption_key_file): set the one it was encrypted with",
			ErrOIDCKeyEncryption, k.ID)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(k.PrivateKey, sealedKeyPrefix))
	g, gerr := s.kekAEAD()
	if gerr != nil {
		return gerr
	}
	if err != nil || len(raw) < g.NonceSize() {
		return fmt.Errorf("%w: key %s: the stored key is damaged", ErrOIDCKeyEncryption, k.ID)
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(k.ID))
	if err != nil {
		return fmt.Errorf("%w: oidc.key_encryption_key_file does not open key %s: it is not the key it was encrypted with", ErrOIDCKeyEncryption, k.ID)
	}
	k.PrivateKey = string(plain)
	return nil
}

// PrepareOIDCKeys checks, before the daemon serves, that every stored
// signing key can be used: with a key encryption key, every key opens
// with it (a wrong one is an error, and no key is made instead) and keys
// still stored plain are sealed, each in place and only if unchanged, so
// that a crash or a second replica doing the same leaves every row either
// plain or sealed, never lost; without one, a sealed key is an error. It
// returns how many keys it sealed and how many stay plain.
func (s *Service) PrepareOIDCKeys(ctx context.Context) (sealed, plain int, err error) {
	err = s.store.InTx(ctx, func(tx Tx) error {
		sealed, plain = 0, 0
		keys, err := tx.ListOIDCKeys(ctx)
		if err != nil {
			return err
		}
		for i := range keys {
			k := keys[i]
			if k.sealed() {
				if err := s.openKey(&k); err != nil {
					return err
				}
				if _, err := k.RSA(); err != nil {
					return fmt.Errorf("%w: %v", ErrOIDCKeyEncryption, err)
				}
				continue
			}
			if s.oidcKEK == nil {
				plain++
				continue
			}
			before := k.PrivateKey
			if err := s.sealKey(&k); err != nil {
				return err
			}
			ok, err := tx.UpdateOIDCKeyPrivate(ctx, k.ID, before, k.PrivateKey)
			if err != nil {
				return err
			}
			if ok {
				sealed++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("prepare oidc signing keys: %w", err)
	}
	if sealed > 0 {
		s.log.Info("oidc signing keys encrypted at rest", "keys", sealed)
	}
	return sealed, plain, nil
}

// listOIDCKeys reads the stored keys, opened.
func (s *Service) listOIDCKeys(ctx context.Context) ([]OIDCKey, error) {
	keys, err := read(ctx, s.store, func(tx Tx) ([]OIDCKey, error) { return tx.ListOIDCKeys(ctx) })
	if err != nil {
		return nil, err
	}
	for i := range keys {
		if err := s.openKey(&keys[i]); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// OIDCKeys returns the keys in force, creating the first one when there is
// none.
func (s *Service) OIDCKeys(ctx context.Context) (*OIDCKeySet, error) {
	keys, err := s.listOIDCKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc keys: %w", err)
	}
	if len(keys) == 0 {
		if _, err := s.RotateOIDCKeys(ctx); err != nil {
			return nil, err
		}
		if keys, err = s.listOIDCKeys(ctx); err != nil {
			return nil, fmt.Errorf("oidc keys: %w", err)
		}
	}
	sk, ok := SigningKeyOf(keys, s.now())
	if !ok {
		return nil, fmt.Errorf("oidc keys: none")
	}
	return &OIDCKeySet{Signing: sk, Verify: keys}, nil
}

// oidcKeyKeep is how long a retired key stays published: until every
// token it signed has expired (ID and access tokens; refresh tokens are
// opaque), plus the activation delay of its successor.
func (s *Service) oidcKeyKeep() time.Duration {
	return max(s.cfg.OIDCAccessTokenTTL, s.cfg.OIDCIDTokenTTL) + OIDCKeyActivation + time.Minute
}

// RotateOIDCKeys is the key schedule (a job): with no key, or when the
// newest is older than Config.OIDCKeyRotation, a new key is made and the
// others retired; retired keys are deleted once no token they signed can
// still be valid. It returns how many keys it added and deleted.
func (s *Service) RotateOIDCKeys(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.InTx(ctx, func(tx Tx) error {
		now := s.now()
		keys, err := tx.ListOIDCKeys(ctx)
		if err != nil {
			return err
		}
		var newest *OIDCKey
		for i := range keys {
			if newest == nil || keys[i].CreatedAt.After(newest.CreatedAt) {
				newest = &keys[i]
			}
		}
		if newest == nil || !now.Before(newest.CreatedAt.Add(s.cfg.OIDCKeyRotation)) {
			k, err := newOIDCKey(now)
			if err != nil {
				return err
			}
			if err := s.sealKey(k); err != nil {
				return err
			}
			if err := tx.InsertOIDCKey(ctx, k); err != nil {
				return err
			}
			// The old ones sign until the new one is active: they are
			// retired from then on.
			if err := tx.RetireOIDCKeys(ctx, k.ID, now.Add(OIDCKeyActivation)); err != nil {
				return err
			}
			n++
			s.log.Info("oidc signing key added", "key_id", k.ID, "active_from", now.Add(OIDCKeyActivation))
		}
		d, err := tx.DeleteOIDCKeysRetiredBefore(ctx, now.Add(-s.oidcKeyKeep()))
		n += d
		return err
	})
	if err != nil {
		return n, fmt.Errorf("rotate oidc keys: %w", err)
	}
	return n, nil
}
