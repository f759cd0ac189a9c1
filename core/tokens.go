package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// NewSecret returns a random 256-bit token, URL-safe, with a prefix naming its kind
// (so a leaked token is recognisable in a secret scanner).
func NewSecret(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashSecret is how tokens are stored and looked up: hex SHA-256. A 256-bit
// random token needs no salt or slow hash.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Token prefixes.
const (
	PrefixInvite  = "rinv_"
	PrefixSession = "rses_"
	PrefixSCIM    = "rscim_"
	PrefixAdmin   = "radm_"
)

// TokenRepo stores API tokens (only their SHA-256) and the provisioning
// settings of SCIM tokens.
type TokenRepo interface {
	InsertToken(ctx context.Context, t *APIToken) error
	TokenByHash(ctx context.Context, hash string) (*APIToken, error)
	ListTokens(ctx context.Context, orgID string) ([]APIToken, error)
	RevokeToken(ctx context.Context, orgID, id string, at time.Time) (bool, error)
	// RevokeUserTokens revokes every unrevoked token acting as userID.
	RevokeUserTokens(ctx context.Context, userID string, at time.Time) (int64, error)
	DirectorySettings(ctx context.Context, tokenID string) (*DirectorySettings, error)
	PutDirectorySettings(ctx context.Context, s *DirectorySettings) error
}
