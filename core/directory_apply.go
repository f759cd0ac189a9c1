package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SyncSource is what the core needs to know about a directory source.
type SyncSource struct {
	Name         string // the source's name; its users have source "ldap:<name>"
	OrgID        string
	Invite       bool   // new users are invited (true) or start active
	LinkExisting string // never | username | email: adopt a native user with the same key
	Archive      bool   // removal archives instead of disabling
	DefaultRole  Role   // role of new users when the directory gives none
	// RoleCeiling is the most the source grants (DefaultRoleCeiling, admin,
	// when empty): a role from a role rule or the default above it is
	// clamped to it. The config refuses rules above it; this holds for
	// callers that build a SyncSource themselves.
	RoleCeiling Role
	// Owned are the attributes the source maps beyond username, email,
	// names and phone (schema API names, custom fields as
	// MetadataPrefix+name, sorted): a sync writes those and leaves the others.
	Owned []string
	// SkipDisabled: a user disabled in the directory when first seen is
	// skipped, not created disabled (import_disabled: false).
	SkipDisabled bool

	metaTpl []MetadataField // the organisation's template, when Owned has custom fields
}

// InviteMode is how the source's new users are invited: by mail, or not at
// all (they start active).
func (s SyncSource) InviteMode() InviteMode {
	if s.Invite {
		return InviteByMail
	}
	return NoInvite
}

// Source is the user source string of the directory's users.
func (s SyncSource) Source() string { return "ldap:" + s.Name }

// Actor is the directory acting on the store.
func (s SyncSource) Actor() Actor {
	return Actor{Kind: ActorLDAP, Name: s.Name, Source: s.Source()}
}

// SyncGroup is one directory group with its effective (nested groups
// flattened) members, as indexes into the snapshot's users.
type SyncGroup struct {
	ExternalID string
	Name       string
	Members    []int32
}

// DirectorySnapshot is the compact desired state one run read from a directory.
type DirectorySnapshot struct {
	Full           bool // a complete listing (absent users are removed)
	NoCreate       bool // keep known users in sync, create nobody (sources in on_demand mode)
	Users          []SyncEntry
	GroupsIncluded bool // Groups is the complete list of the source's groups
	Groups         []SyncGroup
}

// SyncOptions tune how a snapshot is applied.
type SyncOptions struct {
	DryRun      bool        // compute and check the plan, write nothing
	BatchSize   int         // changes per transaction; 5000 when zero
	MaxRemovals MaxRemovals // the deletion guard
	// Progress, when set, is called after each batch with the counts so far.
	Progress func(SyncCounts)
}

// SyncResult is the outcome of applying one snapshot.
type SyncResult struct {
	SyncCounts
	Problems []string // per-user problems (conflicts, invalid entries), at most maxProblems
	// Skipped counts the directory users the run did not write, by why
	// (Skip… reasons) in SkippedWhy.
	Skipped    int
	SkippedWhy map[string]int
}

const maxProblems = 50

func (r *SyncResult) problem(format string, args ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// historyBuf collects the history entries of one batch transaction, written
// with one statement per couple hundred entries before the commit.
type historyBuf struct {
	s       *Service
	a       Actor
	orgID   string
	entries []HistoryEntry
}

func (b *historyBuf) add(action, targetType, targetID string, before, after any) {
	b.entries = append(b.entries, HistoryEntry{
		OrgID: b.orgID, At: b.s.now(), ActorKind: b.a.Kind, ActorID: b.a.ID, ActorName: b.a.Name,
		Action: action, TargetType: targetType, TargetID: targetID, RequestID: b.a.RequestID,
		Before: snapshotJSON(before), After: snapshotJSON(after), TokenID: b.a.TokenID, TokenCreatedBy: b.a.TokenCreatedBy,
	})
}

func (b *historyBuf) flush(ctx context.Context, tx Tx) error {
	if len(b.entries) == 0 {
		return nil
	}
	err := tx.InsertHistoryBatch(ctx, b.entries)
	b.entries = b.entries[:0]
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// errRollback ends a dry-run transaction without committing it.
var errRollback = errors.New("dry run: rolled back")

// ApplyDirectory reconciles a directory snapshot with the store: it computes
// the plan, checks the deletion guard (a *GuardError, nothing written), and
// applies the plan in batches that are each one transaction. A failed batch
// stops the run; the batches before it stay, and the next run continues from
// there, since a reconcile of already applied changes finds nothing to do.
// A dry run goes through the same steps and rolls every batch back.
// ApplyDirectory consumes the snapshot's users (it clears them as it goes).
func (s *Service) ApplyDirectory(ctx context.Context, src SyncSource, snap *DirectorySnapshot, o SyncOptions) (*SyncResult, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if src.DefaultRole == "" {
		src.DefaultRole = RoleMember
	}
	if !src.RoleCeiling.Valid() {
		src.RoleCeiling = DefaultRoleCeiling
	}
	src.DefaultRole = ClampRole(src.DefaultRole, src.RoleCeiling)
	for i := range snap.Users {
		if snap.Users[i].Role != "" {
			snap.Users[i].Role = ClampRole(snap.Users[i].Role, src.RoleCeiling)
		}
		if len(src.Owned) > 0 {
			prepareEntry(&snap.Users[i])
		}
	}
	res := &SyncResult{}
	var ids []string
	if !snap.Full {
		ids = make([]string, 0, len(snap.Users))
		for i := range snap.Users {
			ids = append(ids, snap.Users[i].ExternalID)
		}
	}
	var current []SyncedUser
	var managers []managerLink
	base, storedGroups := -1, 0
	err := s.store.ViewBulk(ctx, func(tx Tx) error {
		var err error
		if current, err = tx.SyncUsers(ctx, src.OrgID, src.Source(), ids, src.Owned); err != nil {
			return err
		}
		if managers, err = s.prepareOwned(ctx, tx, &src, snap.Users, current, res); err != nil {
			return err
		}
		if snap.GroupsIncluded && len(snap.Groups) == 0 {
			gs, err := tx.SourceGroups(ctx, src.OrgID, src.Source())
			if err != nil {
				return err
			}
			storedGroups = len(gs)
		}
		if !snap.Full { // the guard's base is every user of the source, not just those read
			base, err = tx.CountSyncUsers(ctx, src.OrgID, src.Source())
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read users of %s: %w", src.Source(), err)
	}
	plan := Reconcile(snap.Users, current, ReconcileOptions{Full: snap.Full, Archive: src.Archive, NoCreate: snap.NoCreate,
		SkipDisabled: src.SkipDisabled, Owned: src.Owned})
	current = nil
	// The snapshot is consumed: users the plan does not write are dropped
	// now, the others once written (a sync's memory is one copy of the directory).
	keep := make([]bool, len(snap.Users))
	for _, i := range plan.Create {
		keep[i] = true
	}
	for _, c := range plan.Update {
		keep[c.Desired] = true
	}
	for i := range snap.Users {
		if !keep[i] {
			snap.Users[i] = SyncEntry{}
		}
	}
	keep = nil
	if base >= 0 {
		plan.Base = base
	}
	res.Unchanged = plan.Unchanged
	res.Skipped, res.SkippedWhy = plan.Skipped, plan.SkippedWhy
	if err := CheckGuard(plan, o.MaxRemovals, snap.Full, len(snap.Users)); err != nil {
		return res, err
	}
	if storedGroups > 0 {
		// Emptying every group would take every role the rules give: a
		// broken group filter must not demote the admins.
		return res, &GuardError{Reason: fmt.Sprintf("the directory returned no groups, but the source has %d; check the group filter and base", storedGroups)}
	}
	a := src.Actor()
	// The user ids of the desired users, for group memberships.
	userIDs := plan.Match
	// fresh marks the users this run created: their first memberships are
	// recorded once per group, not once per user.
	fresh := make([]bool, len(snap.Users))
	type op struct {
		create int // index into desired, or -1
		update *UserChange
		status *StatusChange
	}
	ops := make([]op, 0, plan.Changes())
	for _, i := range plan.Create {
		ops = append(ops, op{create: i})
	}
	for i := range plan.Update {
		ops = append(ops, op{create: -1, update: &plan.Update[i]})
	}
	for i := range plan.Status {
		ops = append(ops, op{create: -1, status: &plan.Status[i]})
	}
	for start := 0; start < len(ops); start += o.BatchSize {
		batch := ops[start:min(start+o.BatchSize, len(ops))]
		var bc SyncCounts
		var bp []string
		created := map[int]string{}
		err := s.store.InTx(ctx, func(tx Tx) error {
			bc, bp = SyncCounts{}, nil
			clear(created)
			br := &SyncResult{}
			hist := &historyBuf{s: s, a: a, orgID: src.OrgID}
			var creates []int
			for _, op := range batch {
				if op.create >= 0 {
					creates = append(creates, op.create)
				}
			}
			if err := s.syncCreates(ctx, tx, src, a, hist, snap.Users, creates, !snap.Full, created, br); err != nil {
				return err
			}
			for _, op := range batch {
				var err error
				switch {
				case op.create >= 0:
				case op.update != nil:
					err = s.syncUpdate(ctx, tx, src, a, &snap.Users[op.update.Desired], op.update, br)
				default:
					err = s.syncStatus(ctx, tx, src, a, op.status, br)
				}
				if err != nil {
					return err
				}
			}
			if err := hist.flush(ctx, tx); err != nil {
				return err
			}
			bc, bp = br.SyncCounts, br.Problems
			if o.DryRun {
				return errRollback
			}
			return nil
		})
		if err != nil && !errors.Is(err, errRollback) {
			return res, fmt.Errorf("apply batch at change %d of %d: %w", start, len(ops), err)
		}
		if !o.DryRun { // rolled back: those users do not exist
			for i, id := range created {
				userIDs[i] = id
				fresh[i] = true
			}
		}
		for _, op := range batch {
			switch {
			case op.create >= 0:
				snap.Users[op.create] = SyncEntry{}
			case op.update != nil:
				snap.Users[op.update.Desired] = SyncEntry{}
			}
		}
		res.add(bc)
		for _, p := range bp {
			res.problem("%s", p)
		}
		if o.Progress != nil {
			o.Progress(res.SyncCounts)
		}
	}
	if len(managers) > 0 && !o.DryRun {
		if err := s.linkManagers(ctx, src, a, managers, userIDs, o, res); err != nil {
			return res, err
		}
	}
	if snap.GroupsIncluded {
		if err := s.syncGroups(ctx, src, a, snap, userIDs, fresh, o, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (c *SyncCounts) add(o SyncCounts) {
	c.Created += o.Created
	c.Updated += o.Updated
	c.Disabled += o.Disabled
	c.Archived += o.Archived
	c.Enabled += o.Enabled
	c.Unchanged += o.Unchanged
	c.Linked += o.Linked
	c.Conflicts += o.Conflicts
	c.Errors += o.Errors
	c.Memberships += o.Memberships
}

// domainErr reports whether err is a rule refusing one user (counted, the
// run goes on) rather than a store failure (the run stops).
func domainErr(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrConflict) || errors.Is(err, ErrTransition) || errors.Is(err, ErrForbidden)
}

// syncCreate adds a directory user, or links it to an existing user when the
// source allows that. It returns the user's id ("" when skipped).
// syncCreates adds new directory users: all of a batch with one statement
// per couple hundred rows, or, when one of them clashes with an existing
// user, one at a time so that each clash is handled on its own.
func (s *Service) syncCreates(ctx context.Context, tx Tx, src SyncSource, a Actor, hist *historyBuf, desired []SyncEntry, idx []int, relink bool, created map[int]string, r *SyncResult) error {
	users := make([]*User, 0, len(idx))
	which := make([]int, 0, len(idx))
	for _, i := range idx {
		if u := s.newDirectoryUser(src, &desired[i], r); u != nil {
			users = append(users, u)
			which = append(which, i)
		}
	}
	if len(users) == 0 {
		return nil
	}
	err := tx.InsertUsers(ctx, users)
	if err == nil {
		for k, u := range users {
			if err := s.created(ctx, tx, src, a, hist, u, r); err != nil {
				return err
			}
			created[which[k]] = u.ID
		}
		return nil
	}
	if !errors.Is(err, ErrConflict) {
		return err
	}
	// A failed statement inserted nothing and left the transaction usable.
	for k, u := range users {
		d := &desired[which[k]]
		err := tx.InsertUser(ctx, u)
		var id string
		switch {
		case errors.Is(err, ErrConflict):
			id, err = s.syncClash(ctx, tx, src, a, u, d, relink, r)
		case err == nil:
			id, err = u.ID, s.created(ctx, tx, src, a, hist, u, r)
		}
		if err != nil {
			return err
		}
		if id != "" {
			created[which[k]] = id
		}
	}
	return nil
}

// newDirectoryUser builds the store's copy of a new directory user, or
// counts why it cannot be imported.
func (s *Service) newDirectoryUser(src SyncSource, d *SyncEntry, r *SyncResult) *User {
	role := d.Role
	if role == "" {
		role = src.DefaultRole
	}
	u, err := s.constructUser(userSpec{OrgID: src.OrgID, Source: src.Source(), Username: d.Username, Email: d.Email,
		FirstName: d.FirstName, LastName: d.LastName, Phone: d.Phone, ExternalID: d.ExternalID, Role: role,
		DisplayName: d.extra().DisplayName, Language: d.extra().Language, ManagerID: d.extra().managerID, Attributes: d.extra().Attributes,
		Metadata: d.extra().Metadata})
	if err == nil {
		err = checkOwnedMetadata(src.metaTpl, d.extra().Metadata, src.Owned)
	}
	if err != nil {
		r.Errors++
		r.problem("%s (%s): %v", d.Username, d.ExternalID, err)
		return nil
	}
	startNewUser(u, src.InviteMode(), u.CreatedAt)
	if d.Disabled {
		// Disabled at first sight: created disabled (the username stays its
		// owner's), invited by nobody; enabled when the directory enables it.
		u.Status = StatusDisabled
	}
	return u
}

// created records a new user and, for inviting sources, issues the invitation.
func (s *Service) created(ctx context.Context, tx Tx, src SyncSource, a Actor, hist *historyBuf, u *User, r *SyncResult) error {
	hist.add("user.create", "user", u.ID, nil, u)
	r.Created++
	if u.Status == StatusDisabled {
		// The source disabled it: re-enabled in the directory, it is enabled here.
		return tx.SetSyncRemoved(ctx, u.ID, src.Source(), true)
	}
	// The same rule as every other door (startNewUser): without an email
	// nothing is issued, and the user shows invite status none (no_email).
	issue := inviteToIssue(src.InviteMode(), u.Email)
	if issue == NoInvite {
		return nil
	}
	if err := hist.flush(ctx, tx); err != nil { // keep the order: create, then invite
		return err
	}
	_, err := s.issueNewUserInvite(ctx, tx, a, u, issue, "")
	return err
}

// syncClash handles a new directory user whose username, email or id is
// taken: an entry re-added under a new id (incremental runs), a native user
// to link when the source says so, or a conflict.
func (s *Service) syncClash(ctx context.Context, tx Tx, src SyncSource, a Actor, u *User, d *SyncEntry, relink bool, r *SyncResult) (string, error) {
	other, field, err := existingUser(ctx, tx, u)
	if err != nil {
		return "", err
	}
	if other == nil {
		r.Conflicts++
		r.problem("%s (%s): the external id is already used by another user of source %s", d.Username, d.ExternalID, src.Source())
		return "", nil
	}
	switch {
	case other.Source == src.Source() && relink && other.ExternalID != d.ExternalID:
		// Incremental run: the entry was deleted and re-added under a new id.
		return other.ID, s.syncRelink(ctx, tx, src, a, other, d, "user.update", r)
	case other.Source == SourceNative && src.LinkExisting == field:
		r.Linked++
		return other.ID, s.syncRelink(ctx, tx, src, a, other, d, "user.link", r)
	}
	r.Conflicts++
	r.problem("%s (%s): %s %q is already used by a user of source %s (link_existing: %s)", d.Username, d.ExternalID, field, fieldValue(u, field), other.Source, src.LinkExisting)
	return "", nil
}

func fieldValue(u *User, field string) string {
	if field == "email" {
		return u.Email
	}
	return u.Username
}

// existingUser finds a user holding u's username or email, and which field matched.
func existingUser(ctx context.Context, tx Tx, u *User) (*User, string, error) {
	other, err := tx.UserByUsername(ctx, u.OrgID, u.Username)
	if err == nil {
		return other, "username", nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, "", err
	}
	if u.Email == "" {
		return nil, "", nil
	}
	other, err = tx.UserByEmail(ctx, u.OrgID, u.Email)
	if err == nil {
		return other, "email", nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, "", err
	}
	return nil, "", nil
}

// syncRelink makes u the store's copy of directory user d: source, external
// id and attributes; a user the source removed is brought back.
func (s *Service) syncRelink(ctx context.Context, tx Tx, src SyncSource, a Actor, u *User, d *SyncEntry, action string, r *SyncResult) error {
	before := *u
	u.Source = src.Source()
	u.ExternalID = d.ExternalID
	fields := changedFields(d, u, src.Owned)
	ok, err := s.writeAttributes(ctx, tx, src, a, u, &before, d, fields, action, r)
	if err != nil || !ok {
		return err
	}
	if action == "user.update" {
		r.Updated++
	}
	removed, err := tx.SyncUsers(ctx, u.OrgID, src.Source(), []string{u.ExternalID}, nil)
	if err != nil {
		return err
	}
	if len(removed) == 1 && !d.Disabled {
		if sc, ok := statusFor(d, &removed[0]); ok {
			return s.syncStatus(ctx, tx, src, a, &sc, r)
		}
	}
	return nil
}

// writeAttributes copies the changed directory fields onto u and writes it
// with one history entry. Invalid or conflicting values are counted, not fatal.
func (s *Service) writeAttributes(ctx context.Context, tx Tx, src SyncSource, a Actor, u, before *User, d *SyncEntry, fields []string, action string, r *SyncResult) (bool, error) {
	if len(src.Owned) > 0 {
		cloneOwnedMaps(u)
	}
	for _, f := range fields {
		switch f {
		case "username":
			u.Username = strings.TrimSpace(d.Username)
		case "email":
			u.Email = directoryEmail(u.Email, d.Email)
		case "first_name":
			u.FirstName = strings.TrimSpace(d.FirstName)
		case "last_name":
			u.LastName = strings.TrimSpace(d.LastName)
		case "phone":
			u.Phone = strings.TrimSpace(d.Phone)
		case "external_id":
			u.ExternalID = d.ExternalID
		case "role":
			u.Role = d.Role
		default:
			applyOwned(u, d, f)
		}
	}
	var p problems
	normalizeUser(&p, u)
	validateUserFields(&p, u)
	err := p.err()
	if err == nil {
		err = checkOwnedMetadata(src.metaTpl, u.Metadata, src.Owned)
	}
	if err != nil {
		r.Errors++
		r.problem("%s (%s): %v", d.Username, d.ExternalID, err)
		*u = *before
		return false, nil
	}
	if err := keepOwner(ctx, tx, before, u, lastOwnerDemoted); err != nil {
		if domainErr(err) {
			r.Errors++
			r.problem("%s (%s): %v", d.Username, d.ExternalID, err)
			*u = *before
			return false, nil
		}
		return false, err
	}
	if err := checkUnique(ctx, tx, u, u.ID); err != nil {
		if domainErr(err) {
			r.Conflicts++
			r.problem("%s (%s): %v", d.Username, d.ExternalID, err)
			*u = *before
			return false, nil
		}
		return false, err
	}
	u.UpdatedAt = s.now()
	if err := tx.UpdateUser(ctx, u); err != nil {
		if domainErr(err) {
			r.Conflicts++
			r.problem("%s (%s): %v", d.Username, d.ExternalID, err)
			*u = *before
			return false, nil
		}
		return false, err
	}
	return true, s.record(ctx, tx, a, u.OrgID, action, "user", u.ID, before, u)
}

func (s *Service) syncUpdate(ctx context.Context, tx Tx, src SyncSource, a Actor, d *SyncEntry, c *UserChange, r *SyncResult) error {
	u, err := tx.UserByID(ctx, src.OrgID, c.UserID)
	if err != nil {
		return err
	}
	if u.Source != src.Source() {
		return nil // re-linked by another entry meanwhile
	}
	before := *u
	fields := changedFields(d, u, src.Owned)
	if len(fields) == 0 {
		return nil // changed meanwhile to what the directory says
	}
	ok, err := s.writeAttributes(ctx, tx, src, a, u, &before, d, fields, "user.update", r)
	if ok {
		r.Updated++
	}
	return err
}

func (s *Service) syncStatus(ctx context.Context, tx Tx, src SyncSource, a Actor, c *StatusChange, r *SyncResult) error {
	u, err := tx.UserByID(ctx, src.OrgID, c.UserID)
	if err != nil {
		return err
	}
	if err := s.transition(ctx, tx, a, u, c.Action); err != nil {
		if domainErr(err) {
			r.Errors++
			r.problem("%s: %s: %v", u.Username, c.Reason, err)
			return nil
		}
		return err
	}
	if err := tx.SetSyncRemoved(ctx, u.ID, src.Source(), c.Removes()); err != nil {
		return err
	}
	switch c.Action {
	case ActDisable:
		r.Disabled++
	case ActArchive:
		r.Archived++
	default:
		r.Enabled++
	}
	return nil
}

// syncGroups makes the source's groups and their memberships those of the
// directory: groups are created or renamed; a group gone from the directory
// is emptied, not deleted, so that app grants made on it survive. Current
// memberships are read first; only groups that change are written, several
// per transaction.
func (s *Service) syncGroups(ctx context.Context, src SyncSource, a Actor, snap *DirectorySnapshot, userIDs []string, fresh []bool, o SyncOptions, res *SyncResult) error {
	type change struct {
		g           *Group // nil: a new group
		ext, name   string
		add, remove []string
		addFresh    []string // users created by this run
	}
	var changes []change
	err := s.store.ViewBulk(ctx, func(tx Tx) error {
		stored, err := tx.SourceGroups(ctx, src.OrgID, src.Source())
		if err != nil {
			return err
		}
		byExt := make(map[string]*Group, len(stored))
		for i := range stored {
			byExt[stored[i].ExternalID] = &stored[i]
		}
		plan := func(g *Group, ext, name string, members []string, isFresh map[string]bool) error {
			var current []string
			if g != nil {
				if current, err = tx.GroupMemberIDs(ctx, g.ID); err != nil {
					return err
				}
			}
			slices.Sort(members)
			members = slices.Compact(members)
			c := change{g: g, ext: ext, name: name}
			for _, id := range members {
				if _, ok := slices.BinarySearch(current, id); !ok {
					if isFresh[id] {
						c.addFresh = append(c.addFresh, id)
					} else {
						c.add = append(c.add, id)
					}
				}
			}
			for _, id := range current {
				if _, ok := slices.BinarySearch(members, id); !ok {
					c.remove = append(c.remove, id)
				}
			}
			if g == nil || g.Name != name || len(c.add)+len(c.addFresh)+len(c.remove) > 0 {
				changes = append(changes, c)
			}
			return nil
		}
		listed := make(map[string]bool, len(snap.Groups))
		for gi := range snap.Groups {
			g := &snap.Groups[gi]
			listed[g.ExternalID] = true
			members := make([]string, 0, len(g.Members))
			isFresh := map[string]bool{}
			for _, m := range g.Members {
				if int(m) < len(userIDs) && userIDs[m] != "" {
					members = append(members, userIDs[m])
					if fresh[m] {
						isFresh[userIDs[m]] = true
					}
				}
			}
			if err := plan(byExt[g.ExternalID], g.ExternalID, g.Name, members, isFresh); err != nil {
				return err
			}
		}
		if snap.Full {
			for i := range stored {
				if !listed[stored[i].ExternalID] {
					if err := plan(&stored[i], stored[i].ExternalID, stored[i].Name, nil, nil); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read groups of %s: %w", src.Source(), err)
	}
	for start := 0; start < len(changes); {
		// One transaction holds whole groups, up to about 4×BatchSize
		// memberships: a membership costs a quarter of a user to write, so a
		// transaction holds the writer about as long as a batch of users.
		end, n := start, 0
		for end < len(changes) && (end == start || n < 4*o.BatchSize) {
			n += 1 + len(changes[end].add) + len(changes[end].addFresh) + len(changes[end].remove)
			end++
		}
		var bc SyncCounts
		var bp []string
		err := s.store.InTx(ctx, func(tx Tx) error {
			br := &SyncResult{}
			hist := &historyBuf{s: s, a: a, orgID: src.OrgID}
			var adds []Membership
			for _, c := range changes[start:end] {
				if err := s.syncGroup(ctx, tx, src, a, hist, c.g, c.ext, c.name, c.add, c.addFresh, c.remove, &adds, br); err != nil {
					return fmt.Errorf("group %q: %w", c.name, err)
				}
			}
			// In user order across the batch's groups: the members-by-user
			// index is then written front to back once per batch, not once
			// per group, and each group's own range only grows at its end.
			slices.SortFunc(adds, func(x, y Membership) int {
				return cmp.Or(strings.Compare(x.UserID, y.UserID), strings.Compare(x.GroupID, y.GroupID))
			})
			if err := tx.InsertGroupMembers(ctx, adds); err != nil {
				return err
			}
			if err := hist.flush(ctx, tx); err != nil {
				return err
			}
			bc, bp = br.SyncCounts, br.Problems
			if o.DryRun {
				return errRollback
			}
			return nil
		})
		if err != nil && !errors.Is(err, errRollback) {
			return err
		}
		res.add(bc)
		for _, p := range bp {
			res.problem("%s", p)
		}
		if o.Progress != nil {
			o.Progress(res.SyncCounts)
		}
		start = end
	}
	return nil
}

// syncGroup creates or renames a group, removes members, and appends the
// memberships to add to adds (the caller inserts a batch's at once).
func (s *Service) syncGroup(ctx context.Context, tx Tx, src SyncSource, a Actor, hist *historyBuf, g *Group, ext, name string, add, addFresh, remove []string, adds *[]Membership, r *SyncResult) error {
	now := s.now()
	if g == nil {
		g = &Group{ID: newID(), OrgID: src.OrgID, Name: name, Source: src.Source(), ExternalID: ext, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertGroup(ctx, g); err != nil {
			if domainErr(err) {
				r.Conflicts++
				r.problem("group %q: %v", name, err)
				return nil
			}
			return err
		}
		hist.add("group.create", "group", g.ID, nil, g)
	} else if g.Name != name {
		before := *g
		g.Name, g.UpdatedAt = name, now
		if err := tx.UpdateGroup(ctx, g); err != nil {
			if domainErr(err) {
				r.Conflicts++
				r.problem("group %q: %v", name, err)
				return nil
			}
			return err
		}
		hist.add("group.rename", "group", g.ID, &before, g)
	}
	for _, id := range add {
		*adds = append(*adds, Membership{GroupID: g.ID, UserID: id})
		hist.add("group.add_member", "user", id, nil, map[string]string{"group": g.Name})
	}
	if len(addFresh) > 0 {
		// New users' first memberships: one entry on the group, not one per user.
		for _, id := range addFresh {
			*adds = append(*adds, Membership{GroupID: g.ID, UserID: id})
		}
		hist.add("group.add_members", "group", g.ID, nil, map[string]any{"group": g.Name, "user_ids": addFresh})
	}
	if _, err := tx.RemoveGroupMembers(ctx, g.ID, remove); err != nil {
		return err
	}
	for _, id := range remove {
		hist.add("group.remove_member", "user", id, nil, map[string]string{"group": g.Name})
	}
	r.Memberships += len(add) + len(addFresh) + len(remove)
	return nil
}
