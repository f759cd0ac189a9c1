package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config holds the rules' tunables.
type Config struct {
	InviteValidFor   time.Duration // default 7 days
	LockoutThreshold int           // default 10
	DormancyAfter    time.Duration // default 90 days
	SessionTTL       time.Duration // default 12 hours
	// OwnerLockExpiry is how long the lockout keeps an owner locked: after
	// it the lock lifts by itself (other users stay locked until an admin
	// unlocks them). Default 15 minutes.
	OwnerLockExpiry time.Duration
	// MaxConcurrentHashes bounds password hashes and checks running at
	// once (DefaultMaxConcurrentHashes); HashQueueWait is how long one waits
	// for a slot before it is refused with a *BusyError (DefaultHashQueueWait).
	MaxConcurrentHashes int
	HashQueueWait       time.Duration

	// OpenID Provider lifetimes: an authorization request and its code
	// (default 10 minutes), access and ID tokens (1 hour each), refresh
	// tokens (14 days), and the signing key's rotation (30 days).
	OIDCCodeTTL         time.Duration
	OIDCAccessTokenTTL  time.Duration
	OIDCIDTokenTTL      time.Duration
	OIDCRefreshTokenTTL time.Duration
	OIDCKeyRotation     time.Duration
}

// Defaults fills zero values with the product's defaults.
func (c *Config) Defaults() {
	if c.InviteValidFor == 0 {
		c.InviteValidFor = 7 * 24 * time.Hour
	}
	if c.LockoutThreshold == 0 {
		c.LockoutThreshold = 10
	}
	if c.DormancyAfter == 0 {
		c.DormancyAfter = 90 * 24 * time.Hour
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.OwnerLockExpiry <= 0 {
		c.OwnerLockExpiry = 15 * time.Minute
	}
	if c.MaxConcurrentHashes <= 0 {
		c.MaxConcurrentHashes = DefaultMaxConcurrentHashes()
	}
	if c.HashQueueWait <= 0 {
		c.HashQueueWait = DefaultHashQueueWait
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.OIDCCodeTTL, 10 * time.Minute}, {&c.OIDCAccessTokenTTL, time.Hour}, {&c.OIDCIDTokenTTL, time.Hour},
		{&c.OIDCRefreshTokenTTL, 14 * 24 * time.Hour}, {&c.OIDCKeyRotation, 30 * 24 * time.Hour}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
}

// Service is the one place where roster's rules are applied. Every door calls it.
type Service struct {
	cfg    Config
	store  Store
	clock  Clock
	hasher PasswordHasher
	hashes *hashGate
	log    *slog.Logger
	obs    Observer

	// Directory runs: one at a time per source in this process (dirRuns)
	// and across processes (the run lease, held as owner).
	dirRuns     directoryRuns
	leaser      Leaser
	owner       string
	ownerGone   func(owner string) bool
	dirLeaseTTL time.Duration

	dirAuthMu sync.RWMutex
	dirAuth   map[string]DirectoryAuthenticator
	dummyOnce sync.Once

	// catalogOut is told when a user's catalog sign-in ends (the OpenID
	// Provider's back-channel logout).
	catalogOut atomic.Pointer[catalogListener]

	// oidcKEK encrypts the OpenID Provider's signing keys at rest (nil:
	// stored unencrypted).
	oidcKEK []byte
	// signIn is each organisation's sign-in policy (by name): password
	// sign-in on or off, and its break-glass owners (see SetSignInPolicy).
	signInMu sync.RWMutex
	signIn   map[string]SignInPolicy
}

// Deps are the Service's ports.
type Deps struct {
	Store  Store
	Clock  Clock          // SystemClock when nil
	Hasher PasswordHasher // required to set passwords
	Logger *slog.Logger
	// Observer, when set, is told of events the daemon counts (metrics).
	Observer Observer
	// Leaser grants the run lease of directory sources; the store when it
	// is one and Leaser is nil.
	Leaser Leaser
	// LeaseOwner names this process in leases (host, pid and a random part;
	// generated when empty).
	LeaseOwner string
	// LeaseOwnerGone, when set, tells whether a lease owner is a process of
	// this host that no longer runs, so that its run lease is taken over at
	// once instead of after DirectoryLeaseTTL.
	LeaseOwnerGone func(owner string) bool
	// DirectoryLeaseTTL bounds how long a process that died during a run
	// blocks the source's next run (DefaultDirectoryLeaseTTL when zero).
	DirectoryLeaseTTL time.Duration
	// OIDCKeyEncryptionKey, when set (32 bytes), encrypts the OpenID
	// Provider's signing keys in the store (AES-256-GCM); see
	// PrepareOIDCKeys.
	OIDCKeyEncryptionKey []byte
}

// Observer sees countable events as they happen. Calls must return quickly.
// (The daemon's Prometheus metrics implement it; core knows no metrics library.)
type Observer interface {
	// LoginAttempt is called once per password login with its outcome.
	LoginAttempt(outcome LoginOutcome)
}

// LoginOutcome is how a login attempt ended.
type LoginOutcome string

// Login outcomes.
const (
	LoginSuccess LoginOutcome = "success"
	LoginFailure LoginOutcome = "failure" // wrong credentials, or an account that may not log in
	LoginLockout LoginOutcome = "lockout" // this failure locked the account
)

// NewService builds the service.
func NewService(cfg Config, d Deps) (*Service, error) {
	cfg.Defaults()
	if d.Store == nil {
		return nil, errors.New("core: a store is required")
	}
	if d.Clock == nil {
		d.Clock = SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Leaser == nil {
		d.Leaser, _ = d.Store.(Leaser)
	}
	if d.LeaseOwner == "" {
		d.LeaseOwner = newLeaseOwner()
	}
	if d.OIDCKeyEncryptionKey != nil && len(d.OIDCKeyEncryptionKey) != 32 {
		return nil, fmt.Errorf("core: the OIDC key encryption key has %d bytes, not 32", len(d.OIDCKeyEncryptionKey))
	}
	if d.DirectoryLeaseTTL <= 0 {
		d.DirectoryLeaseTTL = DefaultDirectoryLeaseTTL
	}
	return &Service{cfg: cfg, store: d.Store, clock: d.Clock, hasher: d.Hasher, hashes: newHashGate(cfg.MaxConcurrentHashes, cfg.HashQueueWait), log: d.Logger.With("component", "core"), obs: d.Observer,
		leaser: d.Leaser, owner: d.LeaseOwner, ownerGone: d.LeaseOwnerGone, dirLeaseTTL: d.DirectoryLeaseTTL,
		oidcKEK: bytes.Clone(d.OIDCKeyEncryptionKey)}, nil
}

// Config returns the rules' tunables in force.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// read runs one read in a read-only transaction and returns its result.
func read[T any](ctx context.Context, st Store, fn func(Tx) (T, error)) (T, error) {
	var out T
	err := st.View(ctx, func(tx Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}
