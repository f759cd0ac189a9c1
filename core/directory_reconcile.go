package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// SyncEntry is one user as a directory source describes it: the desired
// state of the store's copy.
type SyncEntry struct {
	ExternalID string // the directory's stable id (entryUUID, objectGUID)
	Username   string
	Email      string
	FirstName  string
	LastName   string
	Phone      string
	Disabled   bool // locked or disabled in the directory
	Role       Role // the role the source's role rules give; "" leaves the stored role alone

	// Extra holds the attributes beyond the five above that the source maps
	// (SyncSource.Owned); nil when the directory gives none of them (a
	// snapshot holds one entry per user: most carry no extra values).
	Extra *SyncExtra
}

// SyncExtra is what a directory says of the attributes a source maps
// beyond username, email, names and phone; empty for none.
type SyncExtra struct {
	DisplayName string
	Language    string
	Attributes  Attributes        // document attributes, by API name
	Metadata    map[string]string // custom fields, by field name (without MetadataPrefix)
	// ManagerRef is the external id of the user's manager in the same
	// source ("" for none); the core resolves it to User.ManagerID.
	ManagerRef string

	managerID string // ManagerRef resolved (ApplyDirectory)
	pending   bool   // the manager is created by this run: set afterwards (linkManagers)
}

// X is the entry's extra attributes, allocated on first use.
func (d *SyncEntry) X() *SyncExtra {
	if d.Extra == nil {
		d.Extra = &SyncExtra{}
	}
	return d.Extra
}

// extra is the entry's extra attributes, or the empty ones.
func (d *SyncEntry) extra() *SyncExtra {
	if d.Extra == nil {
		return &noExtra
	}
	return d.Extra
}

var noExtra SyncExtra

// SyncedUser is what a reconcile needs of a stored user of the source:
// compact, since a sync holds one per user of the source. The directory-owned
// attributes are kept as a hash; the apply step reads the user itself.
type SyncedUser struct {
	ID         string
	ExternalID string
	NameKey    uint64 // HashKey(FoldKey(username)): finds a user re-added under a new id
	Attrs      uint64 // AttrHash of the stored username, email, names and phone
	// AttrsNoEmail is Attrs with an empty email: what a directory entry
	// without an email is compared with, since it leaves a stored email
	// alone (directoryEmail).
	AttrsNoEmail uint64
	// Owned hashes the attributes of SyncSource.Owned as stored (OwnedHash).
	Owned   uint64
	Role    Role
	Status  Status
	Removed bool // the source itself disabled or archived the user
}

// AttrHash hashes the attributes a directory owns, as stored (trimmed).
func AttrHash(username, email, firstName, lastName, phone string) uint64 {
	h := fnv.New64a()
	var n [4]byte
	for _, v := range [...]string{username, email, firstName, lastName, phone} {
		binary.LittleEndian.PutUint32(n[:], uint32(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	return h.Sum64()
}

// HashKey hashes a key (a folded username) to 64 bits.
func HashKey(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Synced is the compact state of a stored user.
func Synced(u *User, removed bool) SyncedUser {
	return SyncedUser{ID: u.ID, ExternalID: u.ExternalID, NameKey: HashKey(FoldKey(u.Username)),
		Attrs: AttrHash(u.Username, u.Email, u.FirstName, u.LastName, u.Phone), AttrsNoEmail: AttrHash(u.Username, "", u.FirstName, u.LastName, u.Phone),
		Role: u.Role, Status: u.Status, Removed: removed}
}

// SyncedOwned is Synced with the hash of the attributes a source owns
// beyond the five: managerExt is the external id of the user's manager.
func SyncedOwned(u *User, removed bool, managerExt string, owned []string) SyncedUser {
	s := Synced(u, removed)
	if len(owned) > 0 {
		s.Owned = OwnedHash(u.DisplayName, u.Language, managerExt, u.Attributes, u.Metadata, owned)
	}
	return s
}

func (d *SyncEntry) attrHash() uint64 {
	return AttrHash(strings.TrimSpace(d.Username), strings.TrimSpace(d.Email), strings.TrimSpace(d.FirstName),
		strings.TrimSpace(d.LastName), strings.TrimSpace(d.Phone))
}

// ReconcileOptions tune a reconcile.
type ReconcileOptions struct {
	// Full: the directory listing is complete, so stored users of the source
	// that are absent from it are removed. Incremental runs only see changes.
	Full bool
	// Archive removes by archiving instead of disabling.
	Archive bool
	// NoCreate skips directory users not in the store (on-demand sources).
	NoCreate bool
	// SkipDisabled skips directory users disabled at first sight instead
	// of creating them disabled (a source's import_disabled: false).
	SkipDisabled bool
	// Owned are the attributes the source maps beyond the five (SyncSource.Owned).
	Owned []string
}

// UserChange is a stored user whose directory attributes, id or role changed.
type UserChange struct {
	UserID  string
	Desired int // index into the desired users
}

// StatusChange is a lifecycle action the directory asks for.
type StatusChange struct {
	UserID string
	Action Action // ActDisable, ActArchive, ActEnable or ActRestore
	Reason string
}

// Removes reports whether the change takes a user out (disable or archive).
func (c StatusChange) Removes() bool { return c.Action == ActDisable || c.Action == ActArchive }

// Plan is the difference between a directory and the store: what a sync
// would write. Reconcile computes it without touching anything.
type Plan struct {
	Create    []int // indexes into the desired users
	Update    []UserChange
	Status    []StatusChange
	Unchanged int
	Skipped   int // directory users the plan does not write, counted by why in SkippedWhy
	// SkippedWhy counts the skipped users by reason (SkipDisabled, …).
	SkippedWhy map[string]int
	// Match maps each desired user to the stored user's id ("" when new).
	Match []string
	// Removals counts the disable and archive actions; Base is how many users
	// of the source could be removed (not yet disabled or archived).
	Removals int
	Base     int
}

// Why a directory user is skipped.
const (
	SkipDuplicate   = "a second entry with the same external id (the first one wins)"
	SkipDisabled    = "disabled in the directory and never imported"
	SkipNotImported = "not imported on demand (the source is on_demand)"
)

func (p *Plan) skip(why string) {
	p.Skipped++
	if p.SkippedWhy == nil {
		p.SkippedWhy = map[string]int{}
	}
	p.SkippedWhy[why]++
}

// Changes is the number of users the plan writes.
func (p *Plan) Changes() int { return len(p.Create) + len(p.Update) + len(p.Status) }

// Reconcile diffs the desired users of a directory source against the
// stored users of that source. It is pure: the caller applies the plan.
//
// Users are matched by external id; a desired user without a match is then
// matched by username against a stored user of the source that the
// directory no longer lists (a user deleted and re-added gets a new
// entryUUID: it is the same person, re-enabled, not a duplicate).
func Reconcile(desired []SyncEntry, current []SyncedUser, o ReconcileOptions) *Plan {
	p := &Plan{Match: make([]string, len(desired))}
	byExt := make(map[string]int32, len(current))
	for i := range current {
		byExt[current[i].ExternalID] = int32(i)
		if current[i].Status != StatusDisabled && current[i].Status != StatusArchived {
			p.Base++
		}
	}
	seen := make([]bool, len(current))
	match := make([]int32, len(desired))
	var unmatched []int
	dup := map[string]bool{}
	for i := range desired {
		d := &desired[i]
		ci, ok := byExt[d.ExternalID]
		if ok && seen[ci] {
			match[i] = -2 // a duplicate entry for the same id: the first one wins
			dup[d.ExternalID] = true
			continue
		}
		if !ok {
			match[i] = -1
			unmatched = append(unmatched, i)
			continue
		}
		seen[ci] = true
		match[i] = ci
	}
	if len(unmatched) > 0 {
		// A stored user the directory no longer lists may re-appear under a new id.
		byName := map[uint64]int32{}
		for i := range current {
			if !seen[i] {
				byName[current[i].NameKey] = int32(i)
			}
		}
		for _, i := range unmatched {
			if ci, ok := byName[HashKey(FoldKey(desired[i].Username))]; ok && !seen[ci] {
				seen[ci] = true
				match[i] = ci
			}
		}
	}
	for i := range desired {
		d := &desired[i]
		switch ci := match[i]; {
		case ci == -2:
			p.skip(SkipDuplicate)
		case ci == -1:
			if o.NoCreate {
				p.skip(SkipNotImported)
				continue
			}
			if d.Disabled && o.SkipDisabled {
				p.skip(SkipDisabled) // never imported: nothing to disable
				continue
			}
			p.Create = append(p.Create, i)
		default:
			c := &current[ci]
			p.Match[i] = c.ID
			storedAttrs := c.Attrs
			if strings.TrimSpace(d.Email) == "" {
				storedAttrs = c.AttrsNoEmail // no email from the directory keeps the stored one
			}
			changed := d.ExternalID != c.ExternalID || d.attrHash() != storedAttrs || (d.Role != "" && d.Role != c.Role) ||
				(len(o.Owned) > 0 && d.ownedHash(o.Owned) != c.Owned)
			if changed {
				p.Update = append(p.Update, UserChange{UserID: c.ID, Desired: i})
			}
			sc, ok := statusFor(d, c)
			if ok {
				p.Status = append(p.Status, sc)
				if sc.Removes() {
					p.Removals++
				}
			}
			if !changed && !ok {
				p.Unchanged++
			}
		}
	}
	if o.Full {
		for i := range current {
			if seen[i] {
				continue
			}
			c := &current[i]
			act := ActDisable
			if o.Archive {
				act = ActArchive
			}
			if c.Status == StatusArchived || (act == ActDisable && c.Status == StatusDisabled) {
				p.Unchanged++
				continue
			}
			p.Status = append(p.Status, StatusChange{UserID: c.ID, Action: act, Reason: "no longer in the directory"})
			p.Removals++
		}
	}
	return p
}

// changedFields lists what differs between a directory user and the stored
// user: the five, external id and role, then the owned attributes by name.
func changedFields(d *SyncEntry, u *User, owned []string) []string {
	var f []string
	if d.ExternalID != u.ExternalID {
		f = append(f, "external_id")
	}
	if strings.TrimSpace(d.Username) != u.Username {
		f = append(f, "username")
	}
	if directoryEmail(u.Email, d.Email) != u.Email {
		f = append(f, "email")
	}
	if strings.TrimSpace(d.FirstName) != u.FirstName {
		f = append(f, "first_name")
	}
	if strings.TrimSpace(d.LastName) != u.LastName {
		f = append(f, "last_name")
	}
	if strings.TrimSpace(d.Phone) != u.Phone {
		f = append(f, "phone")
	}
	if d.Role != "" && d.Role != u.Role {
		f = append(f, "role")
	}
	return append(f, changedOwned(d, u, owned)...)
}

// statusFor is the lifecycle action a listed user needs: disabled in the
// directory → disable; enabled again → undo what the source itself did (a user
// an admin disabled stays disabled).
func statusFor(d *SyncEntry, c *SyncedUser) (StatusChange, bool) {
	if d.Disabled {
		if c.Status == StatusDisabled || c.Status == StatusArchived {
			return StatusChange{}, false
		}
		return StatusChange{UserID: c.ID, Action: ActDisable, Reason: "disabled in the directory"}, true
	}
	if !c.Removed {
		return StatusChange{}, false
	}
	switch c.Status {
	case StatusDisabled:
		return StatusChange{UserID: c.ID, Action: ActEnable, Reason: "enabled in the directory again"}, true
	case StatusArchived:
		return StatusChange{UserID: c.ID, Action: ActRestore, Reason: "back in the directory"}, true
	}
	return StatusChange{}, false
}

// GuardError says why the deletion guard refused a plan. Nothing was applied.
type GuardError struct{ Reason string }

func (e *GuardError) Error() string { return "deletion guard: " + e.Reason }

// ErrGuard is the sentinel of a GuardError.
var ErrGuard = errors.New("deletion guard")

// Unwrap makes errors.Is(err, ErrGuard) true.
func (e *GuardError) Unwrap() error { return ErrGuard }

// MaxRemovals is a deletion-guard limit: a count, or a percentage of the
// users of the source that could be removed.
type MaxRemovals struct {
	N       int
	Percent bool
}

// ParseMaxRemovals reads "25" or "5%".
func ParseMaxRemovals(s string) (MaxRemovals, error) {
	s = strings.TrimSpace(s)
	m := MaxRemovals{}
	if strings.HasSuffix(s, "%") {
		m.Percent = true
		s = strings.TrimSuffix(s, "%")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || (m.Percent && n > 100) {
		return MaxRemovals{}, invalid("max_removals", "%q is not a count or a percentage such as 5%%", s)
	}
	m.N = n
	return m, nil
}

// Limit is the largest number of removals allowed out of base users.
func (m MaxRemovals) Limit(base int) int {
	if m.Percent {
		return base * m.N / 100
	}
	return m.N
}

func (m MaxRemovals) String() string {
	if m.Percent {
		return strconv.Itoa(m.N) + "%"
	}
	return strconv.Itoa(m.N)
}

// CheckGuard refuses a plan that removes more users than allowed, or a full
// listing that came back empty although the source has users. listed is the
// number of users the directory returned.
func CheckGuard(p *Plan, m MaxRemovals, full bool, listed int) error {
	if full && listed == 0 && p.Base > 0 {
		return &GuardError{Reason: fmt.Sprintf("the directory returned no users, but the source has %d; check the filter and the server", p.Base)}
	}
	if lim := m.Limit(p.Base); p.Removals > lim {
		return &GuardError{Reason: fmt.Sprintf("the run would disable or archive %d of %d users, more than max_removals %s (%d)", p.Removals, p.Base, m, lim)}
	}
	return nil
}
