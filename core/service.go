package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	if d.DirectoryLeaseTTL <= 0 {
		d.DirectoryLeaseTTL = DefaultDirectoryLeaseTTL
	}
	return &Service{cfg: cfg, store: d.Store, clock: d.Clock, hasher: d.Hasher, hashes: newHashGate(cfg.MaxConcurrentHashes, cfg.HashQueueWait), log: d.Logger.With("component", "core"), obs: d.Observer,
		leaser: d.Leaser, owner: d.LeaseOwner, ownerGone: d.LeaseOwnerGone, dirLeaseTTL: d.DirectoryLeaseTTL}, nil
}

// Config returns the rules' tunables in force.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// record writes a history entry in the caller's transaction.
func (s *Service) record(ctx context.Context, tx Tx, a Actor, orgID, action, targetType, targetID string, before, after any) error {
	reqID := a.RequestID
	if reqID == "" {
		reqID = RequestIDFrom(ctx)
	}
	h := &HistoryEntry{
		OrgID: orgID, At: s.now(), ActorKind: a.Kind, ActorID: a.ID, ActorName: a.Name,
		Action: action, TargetType: targetType, TargetID: targetID, RequestID: reqID,
		Before: snapshotJSON(before), After: snapshotJSON(after),
		TokenID: a.TokenID, TokenCreatedBy: a.TokenCreatedBy,
	}
	if err := tx.InsertHistory(ctx, h); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// userSnapshot is what history keeps of a user: no password hash, no counters.
type userSnapshot struct {
	Username      string            `json:"username"`
	Email         string            `json:"email,omitempty"`
	FirstName     string            `json:"first_name,omitempty"`
	LastName      string            `json:"last_name,omitempty"`
	Phone         string            `json:"phone,omitempty"`
	Language      string            `json:"language,omitempty"`
	Role          Role              `json:"role"`
	CanCreateApps bool              `json:"can_create_apps"`
	Status        Status            `json:"status"`
	Source        string            `json:"source"`
	ExternalID    string            `json:"external_id,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	PasswordSet   bool              `json:"password_set,omitempty"`
}

func snapshotOf(u *User) *userSnapshot {
	if u == nil {
		return nil
	}
	return &userSnapshot{
		Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Phone: u.Phone, Language: u.Language, Role: u.Role, CanCreateApps: u.CanCreateApps,
		Status: u.Status, Source: u.Source, ExternalID: u.ExternalID, Metadata: u.Metadata,
		PasswordSet: u.PasswordHash != "",
	}
}

func snapshotJSON(v any) string {
	if v == nil {
		return ""
	}
	if u, ok := v.(*User); ok {
		if u == nil {
			return ""
		}
		v = snapshotOf(u)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

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

// Org returns an organisation by name.
func (s *Service) Org(ctx context.Context, name string) (*Org, error) {
	return read(ctx, s.store, func(tx Tx) (*Org, error) { return tx.OrgByName(ctx, name) })
}

// CreateOrg adds an organisation.
func (s *Service) CreateOrg(ctx context.Context, a Actor, name, displayName string) (*Org, error) {
	var p problems
	if !metaNameRE.MatchString(name) {
		p.add("name", "%q must start with a letter and hold only letters, digits and _ (at most 64)", name)
	}
	checkText(&p, "display_name", displayName, MaxNameLen)
	if err := p.err(); err != nil {
		return nil, err
	}
	o := &Org{ID: newID(), Name: name, DisplayName: displayName, CreatedAt: s.now()}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateOrg(ctx, o); err != nil {
			return err
		}
		return s.record(ctx, tx, a, o.ID, "org.create", "org", o.ID, nil, o)
	})
	if err != nil {
		return nil, fmt.Errorf("create org %q: %w", name, err)
	}
	return o, nil
}

// SetMetadataTemplate replaces an organisation's custom metadata template.
func (s *Service) SetMetadataTemplate(ctx context.Context, a Actor, orgID string, fields []MetadataField) error {
	if err := authorizeOrgSettings(a); err != nil {
		return err
	}
	if err := ValidateMetadataTemplate(fields); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		before, err := tx.MetadataTemplate(ctx, orgID)
		if err != nil {
			return err
		}
		if err := tx.SetMetadataTemplate(ctx, orgID, fields); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "org.metadata_template", "org", orgID, before, fields)
	})
}

// MetadataTemplate returns an organisation's custom metadata template.
func (s *Service) MetadataTemplate(ctx context.Context, orgID string) ([]MetadataField, error) {
	return read(ctx, s.store, func(tx Tx) ([]MetadataField, error) { return tx.MetadataTemplate(ctx, orgID) })
}

// History returns the history entries about one target, oldest first.
func (s *Service) History(ctx context.Context, orgID, targetID string) ([]HistoryEntry, error) {
	return read(ctx, s.store, func(tx Tx) ([]HistoryEntry, error) { return tx.ListHistory(ctx, orgID, targetID) })
}

// HistoryRepo stores the history of changes.
type HistoryRepo interface {
	InsertHistory(ctx context.Context, h *HistoryEntry) error
	InsertHistoryBatch(ctx context.Context, hs []HistoryEntry) error
	ListHistory(ctx context.Context, orgID, targetID string) ([]HistoryEntry, error)
}
