package core

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sort"
	"time"
)

// OIDCKey is a signing key of the OpenID Provider (RSA, RS256). The store
// keeps the PKCS#8 DER, base64.
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

// OIDCKeys returns the keys in force, creating the first one when there is
// none.
func (s *Service) OIDCKeys(ctx context.Context) (*OIDCKeySet, error) {
	keys, err := read(ctx, s.store, func(tx Tx) ([]OIDCKey, error) { return tx.ListOIDCKeys(ctx) })
	if err != nil {
		return nil, fmt.Errorf("oidc keys: %w", err)
	}
	if len(keys) == 0 {
		if _, err := s.RotateOIDCKeys(ctx); err != nil {
			return nil, err
		}
		if keys, err = read(ctx, s.store, func(tx Tx) ([]OIDCKey, error) { return tx.ListOIDCKeys(ctx) }); err != nil {
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
