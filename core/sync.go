package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// SyncSource is what the core needs to know about a directory source.
type SyncSource struct {
	Name         string // the source's name; its users have source "ldap:<name>"
	OrgID        string
	Invite       bool   // new users are invited (true) or start active
	LinkExisting string // never | username | email: adopt a native user with the same key
	Archive      bool   // removal archives instead of disabling
	DefaultRole  Role   // role of new users when the directory gives none
}

// Source is the user source string of the directory's users.
func (s SyncSource) Source() string { return "ldap:" + s.Name }

// Actor is the directory acting on the store.
func (s SyncSource) Actor() Actor {
	return Actor{Kind: ActorLDAP, Name: s.Name, Source: s.Source()}
}

// DirectoryGroup is one directory group with its effective (nested groups
// flattened) members, as indexes into the snapshot's users.
type DirectoryGroup struct {
	ExternalID string
	Name       string
	Members    []int32
}

// DirectorySnapshot is the compact desired state one run read from a directory.
type DirectorySnapshot struct {
	Full           bool // a complete listing (absent users are removed)
	NoCreate       bool // keep known users in sync, create nobody (sources in on_demand mode)
	Users          []DirectoryUser
	GroupsIncluded bool // Groups is the complete list of the source's groups
	Groups         []DirectoryGroup
}

// SyncOptions tune how a snapshot is applied.
type SyncOptions struct {
	DryRun      bool        // compute and check the plan, write nothing
	BatchSize   int         // changes per transaction; 500 when zero
	MaxRemovals MaxRemovals // the deletion guard
	// Progress, when set, is called after each batch with the counts so far.
	Progress func(SyncCounts)
}

// SyncResult is the outcome of applying one snapshot.
type SyncResult struct {
	SyncCounts
	Problems []string // per-user problems (conflicts, invalid entries), at most maxProblems
}

const maxProblems = 50

func (r *SyncResult) problem(format string, args ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// errRollback ends a dry-run transaction without committing it.
var errRollback = errors.New("dry run: rolled back")

// ApplyDirectory reconciles a directory snapshot with the store: it computes
// the plan, checks the deletion guard (a *GuardError, nothing written), and
// applies the plan in batches that are each one transaction. A failed batch
// stops the run; the batches before it stay, and the next run continues from
// there, since a reconcile of already applied changes finds nothing to do.
// A dry run goes through the same steps and rolls every batch back.
func (s *Service) ApplyDirectory(ctx context.Context, src SyncSource, snap *DirectorySnapshot, o SyncOptions) (*SyncResult, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if src.DefaultRole == "" {
		src.DefaultRole = RoleMember
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
	base := -1
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if current, err = tx.SyncUsers(ctx, src.OrgID, src.Source(), ids); err != nil {
			return err
		}
		if !snap.Full { // the guard's base is every user of the source, not just those read
			base, err = tx.CountSyncUsers(ctx, src.OrgID, src.Source())
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read users of %s: %w", src.Source(), err)
	}
	plan := Reconcile(snap.Users, current, ReconcileOptions{Full: snap.Full, Archive: src.Archive, NoCreate: snap.NoCreate})
	current = nil
	if base >= 0 {
		plan.Base = base
	}
	res.Unchanged = plan.Unchanged
	if err := CheckGuard(plan, o.MaxRemovals, snap.Full, len(snap.Users)); err != nil {
		return res, err
	}
	a := src.Actor()
	// The user ids of the desired users, for group memberships.
	userIDs := plan.Match
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
			for _, op := range batch {
				var err error
				switch {
				case op.create >= 0:
					var id string
					id, err = s.syncCreate(ctx, tx, src, a, &snap.Users[op.create], !snap.Full, br)
					if id != "" {
						created[op.create] = id
					}
				case op.update != nil:
					err = s.syncUpdate(ctx, tx, src, a, &snap.Users[op.update.Desired], op.update, br)
				default:
					err = s.syncStatus(ctx, tx, src, a, op.status, br)
				}
				if err != nil {
					return err
				}
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
	if snap.GroupsIncluded {
		if err := s.syncGroups(ctx, src, a, snap, userIDs, o, res); err != nil {
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
func (s *Service) syncCreate(ctx context.Context, tx Tx, src SyncSource, a Actor, d *DirectoryUser, relink bool, r *SyncResult) (string, error) {
	now := s.now()
	role := d.Role
	if role == "" {
		role = src.DefaultRole
	}
	u := &User{
		ID: uuid.NewString(), OrgID: src.OrgID, Username: strings.TrimSpace(d.Username), Email: strings.TrimSpace(d.Email),
		FirstName: strings.TrimSpace(d.FirstName), LastName: strings.TrimSpace(d.LastName), Phone: strings.TrimSpace(d.Phone),
		Role: role, Source: src.Source(), ExternalID: d.ExternalID, InviteState: InviteStateNone, CreatedAt: now, UpdatedAt: now,
	}
	var p problems
	validateUserFields(&p, u)
	if err := p.err(); err != nil {
		r.Errors++
		r.problem("%s (%s): %v", d.Username, d.ExternalID, err)
		return "", nil
	}
	// An existing user with the same username or email: link, re-link or conflict.
	other, field, err := existingUser(ctx, tx, u)
	if err != nil {
		return "", err
	}
	if other != nil {
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
	if src.Invite {
		u.Status = StatusInvited
	} else {
		u.Status = StatusActive
		u.ActivatedAt = &now
	}
	if err := tx.InsertUser(ctx, u); err != nil {
		if domainErr(err) {
			r.Conflicts++
			r.problem("%s (%s): %v", d.Username, d.ExternalID, err)
			return "", nil
		}
		return "", err
	}
	if err := s.record(ctx, tx, a, u.OrgID, "user.create", "user", u.ID, nil, u); err != nil {
		return "", err
	}
	if src.Invite {
		if _, err := s.issueInvite(ctx, tx, a, u); err != nil {
			return "", err
		}
	}
	r.Created++
	return u.ID, nil
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
func (s *Service) syncRelink(ctx context.Context, tx Tx, src SyncSource, a Actor, u *User, d *DirectoryUser, action string, r *SyncResult) error {
	before := *u
	u.Source = src.Source()
	u.ExternalID = d.ExternalID
	fields := changedFields(d, &SyncedUser{ExternalID: u.ExternalID, Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Phone: u.Phone, Role: u.Role})
	ok, err := s.writeAttributes(ctx, tx, a, u, &before, d, fields, action, r)
	if err != nil || !ok {
		return err
	}
	if action == "user.update" {
		r.Updated++
	}
	removed, err := tx.SyncUsers(ctx, u.OrgID, src.Source(), []string{u.ExternalID})
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
func (s *Service) writeAttributes(ctx context.Context, tx Tx, a Actor, u, before *User, d *DirectoryUser, fields []string, action string, r *SyncResult) (bool, error) {
	for _, f := range fields {
		switch f {
		case "username":
			u.Username = strings.TrimSpace(d.Username)
		case "email":
			u.Email = strings.TrimSpace(d.Email)
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
		}
	}
	var p problems
	validateUserFields(&p, u)
	if err := p.err(); err != nil {
		r.Errors++
		r.problem("%s (%s): %v", d.Username, d.ExternalID, err)
		*u = *before
		return false, nil
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

func (s *Service) syncUpdate(ctx context.Context, tx Tx, src SyncSource, a Actor, d *DirectoryUser, c *UserChange, r *SyncResult) error {
	u, err := tx.UserByID(ctx, src.OrgID, c.UserID)
	if err != nil {
		return err
	}
	if u.Source != src.Source() {
		return nil // re-linked by another entry meanwhile
	}
	before := *u
	ok, err := s.writeAttributes(ctx, tx, a, u, &before, d, c.Fields, "user.update", r)
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
// is emptied, not deleted, so that app grants made on it survive.
func (s *Service) syncGroups(ctx context.Context, src SyncSource, a Actor, snap *DirectorySnapshot, userIDs []string, o SyncOptions, res *SyncResult) error {
	var stored []Group
	if err := s.store.View(ctx, func(tx Tx) error {
		var err error
		stored, err = tx.SourceGroups(ctx, src.OrgID, src.Source())
		return err
	}); err != nil {
		return fmt.Errorf("read groups of %s: %w", src.Source(), err)
	}
	byExt := make(map[string]*Group, len(stored))
	for i := range stored {
		byExt[stored[i].ExternalID] = &stored[i]
	}
	listed := map[string]bool{}
	apply := func(ext, name string, members []string) error {
		var bc SyncCounts
		var bp []string
		err := s.store.InTx(ctx, func(tx Tx) error {
			br := &SyncResult{}
			err := s.syncGroup(ctx, tx, src, a, byExt[ext], ext, name, members, br)
			bc, bp = br.SyncCounts, br.Problems
			if err == nil && o.DryRun {
				return errRollback
			}
			return err
		})
		if err != nil && !errors.Is(err, errRollback) {
			return fmt.Errorf("group %q: %w", name, err)
		}
		res.add(bc)
		for _, p := range bp {
			res.problem("%s", p)
		}
		return nil
	}
	for gi := range snap.Groups {
		g := &snap.Groups[gi]
		listed[g.ExternalID] = true
		members := make([]string, 0, len(g.Members))
		for _, m := range g.Members {
			if int(m) < len(userIDs) && userIDs[m] != "" {
				members = append(members, userIDs[m])
			}
		}
		if err := apply(g.ExternalID, g.Name, members); err != nil {
			return err
		}
	}
	if snap.Full {
		for i := range stored {
			if !listed[stored[i].ExternalID] {
				if err := apply(stored[i].ExternalID, stored[i].Name, nil); err != nil {
					return err
				}
			}
		}
	}
	if o.Progress != nil {
		o.Progress(res.SyncCounts)
	}
	return nil
}

func (s *Service) syncGroup(ctx context.Context, tx Tx, src SyncSource, a Actor, g *Group, ext, name string, members []string, r *SyncResult) error {
	now := s.now()
	if g == nil {
		g = &Group{ID: uuid.NewString(), OrgID: src.OrgID, Name: name, Source: src.Source(), ExternalID: ext, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertGroup(ctx, g); err != nil {
			if domainErr(err) {
				r.Conflicts++
				r.problem("group %q: %v", name, err)
				return nil
			}
			return err
		}
		if err := s.record(ctx, tx, a, src.OrgID, "group.create", "group", g.ID, nil, g); err != nil {
			return err
		}
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
		if err := s.record(ctx, tx, a, src.OrgID, "group.rename", "group", g.ID, &before, g); err != nil {
			return err
		}
	}
	current, err := tx.GroupMemberIDs(ctx, g.ID)
	if err != nil {
		return err
	}
	slices.Sort(members)
	members = slices.Compact(members)
	for _, id := range members {
		if _, ok := slices.BinarySearch(current, id); ok {
			continue
		}
		if err := tx.AddGroupMember(ctx, g.ID, id); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, src.OrgID, "group.add_member", "user", id, nil, map[string]string{"group": g.Name}); err != nil {
			return err
		}
		r.Memberships++
	}
	for _, id := range current {
		if _, ok := slices.BinarySearch(members, id); ok {
			continue
		}
		if err := tx.RemoveGroupMember(ctx, g.ID, id); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, src.OrgID, "group.remove_member", "user", id, nil, map[string]string{"group": g.Name}); err != nil {
			return err
		}
		r.Memberships++
	}
	return nil
}
