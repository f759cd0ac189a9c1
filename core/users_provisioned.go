package core

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Directory-user use cases: what an identity provider (SCIM) does to the
// users of its own source. Users of other sources and archived users do not
// exist for it (ErrNotFound). Every change runs through the same rules and
// history as the admin API.

// DirectoryUserInput is the full state of a user as a directory sends it (a
// SCIM POST or PUT, or a PATCH applied to the current state).
type DirectoryUserInput struct {
	Username    string
	Email       string
	FirstName   string
	LastName    string
	Phone       string
	Language    string
	ExternalID  string
	DisplayName string
	ManagerID   string // a user of the same source
	// Attributes are the document attributes the directory sends (its
	// "roles" values feed role resolution). A directory is authoritative for
	// every one it manages: those it does not send are removed.
	Attributes Attributes
	Active     *bool // nil: unchanged (active on create)
	// Roster's own fields; nil leaves them as they are (a directory that does
	// not send roster's extension does not manage them).
	Role          *Role
	CanCreateApps *bool
	Metadata      map[string]string
}

// DirectoryActive is what a directory sees as "active": the user may (or will,
// once they accept the invitation) log in, or only a password lockout stops them.
func DirectoryActive(s Status) bool {
	return s == StatusInvited || s == StatusActive || s == StatusLocked
}

// AuthenticateDirectory resolves a SCIM bearer secret to its token and the
// token's settings, in one read transaction.
func (s *Service) AuthenticateDirectory(ctx context.Context, secret string) (*APIToken, *DirectorySettings, error) {
	if secret == "" {
		return nil, nil, ErrUnauthorized
	}
	hash := HashSecret(secret)
	var t *APIToken
	var set *DirectorySettings
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		t, err = tx.TokenByHash(ctx, hash)
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(t.TokenHash), []byte(hash)) != 1 || t.RevokedAt != nil || t.Scope != ScopeSCIM {
			return ErrUnauthorized
		}
		set, err = tx.DirectorySettings(ctx, t.ID)
		if errors.Is(err, ErrNotFound) {
			d := DefaultDirectorySettings(t.ID)
			set, err = &d, nil
		}
		if set != nil {
			set.RoleCeiling = tokenCeiling(t)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return t, set, nil
}

// SetDirectorySettings stores a SCIM token's settings. Its default role and
// role rules stay within the token's role ceiling and what the actor may grant.
func (s *Service) SetDirectorySettings(ctx context.Context, a Actor, orgID string, set DirectorySettings) error {
	if err := authorizeOwnerAdmin(a, PermDirectorySettings); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		ts, err := tx.ListTokens(ctx, orgID)
		if err != nil {
			return err
		}
		var tok *APIToken
		for i := range ts {
			if ts[i].ID == set.TokenID && ts[i].Scope == ScopeSCIM {
				tok = &ts[i]
			}
		}
		if tok == nil {
			return &NotFoundError{Kind: "SCIM token", Key: set.TokenID}
		}
		if err := checkDirectorySettings(a, &set, tokenCeiling(tok)); err != nil {
			return err
		}
		before, err := tx.DirectorySettings(ctx, set.TokenID)
		if errors.Is(err, ErrNotFound) {
			before, err = nil, nil
		}
		if err != nil {
			return err
		}
		if err := tx.PutDirectorySettings(ctx, &set); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "token.scim_settings", "token", set.TokenID, before, set)
	})
}

// tokenCeiling is the most a SCIM token grants; tokens without a stored
// ceiling get the default.
func tokenCeiling(t *APIToken) Role {
	if t.RoleCeiling.Valid() {
		return t.RoleCeiling
	}
	return DefaultRoleCeiling
}

// CheckDirectorySettings validates a SCIM token's settings against the
// token's role ceiling: its default role and the roles of its rules may not
// be above it. (The CLI checks its flags with it before it creates a token.)
func CheckDirectorySettings(set *DirectorySettings, ceiling Role) error {
	var p problems
	if set.DefaultRole == "" {
		set.DefaultRole = RoleMember
	}
	if !set.DefaultRole.Valid() {
		p.add("default_role", "%q is not one of owner, admin, user_manager, developer, member", set.DefaultRole)
	} else if set.DefaultRole.Above(ceiling) {
		p.add("default_role", "%s is above the token's role ceiling (%s)", set.DefaultRole, ceiling)
	}
	for i, r := range set.RoleRules {
		if strings.TrimSpace(r.Group) == "" {
			p.add(fmt.Sprintf("role_rules[%d].group", i), "is required")
		}
		if !r.Role.Valid() {
			p.add(fmt.Sprintf("role_rules[%d].role", i), "%q is not one of owner, admin, user_manager, developer, member", r.Role)
		} else if r.Role.Above(ceiling) {
			p.add(fmt.Sprintf("role_rules[%d].role", i), "%s is above the token's role ceiling (%s)", r.Role, ceiling)
		}
	}
	return p.err()
}

// checkDirectorySettings is CheckDirectorySettings, and the actor may grant
// every role the settings name.
func checkDirectorySettings(a Actor, set *DirectorySettings, ceiling Role) error {
	if err := CheckDirectorySettings(set, ceiling); err != nil {
		return err
	}
	if r := creatorRole(a); set.DefaultRole.Above(r) {
		return &ForbiddenError{Field: "default_role", Reason: fmt.Sprintf("your role (%s) cannot grant %s", r, set.DefaultRole)}
	}
	for i, rr := range set.RoleRules {
		if r := creatorRole(a); rr.Role.Above(r) {
			return &ForbiddenError{Field: fmt.Sprintf("role_rules[%d].role", i), Reason: fmt.Sprintf("your role (%s) cannot grant %s", r, rr.Role)}
		}
	}
	return nil
}

// writeTx runs a small write transaction, sharing its commit with
// concurrent ones when the store supports it.
func (s *Service) writeTx(ctx context.Context, fn func(Tx) error) error {
	if b, ok := s.store.(BatchStore); ok {
		return b.InTxBatched(ctx, fn)
	}
	return s.store.InTx(ctx, fn)
}

// directoryRole computes a directory user's org role: the role the directory
// named explicitly; else the first role rule whose group the user is in (by
// group name, id or external id) or whose group is one of the user's roles
// values; else a roles value that is itself an org role; else the default.
// Whatever the source, the role is clamped to the token's role ceiling: a
// directory grants at most what its token's creator may (clamped rather than
// refused, so that the IdP's other changes to the user, a deactivation
// above all, still apply).
func directoryRole(set *DirectorySettings, base Role, roles []string, groups []GroupRef) Role {
	ceiling := set.RoleCeiling
	if !ceiling.Valid() {
		ceiling = DefaultRoleCeiling
	}
	return ClampRole(directoryRoleUnclamped(set, base, roles, groups), ceiling)
}

func directoryRoleUnclamped(set *DirectorySettings, base Role, roles []string, groups []GroupRef) Role {
	if base != "" {
		return base
	}
	def := set.DefaultRole
	if !def.Valid() {
		def = RoleMember
	}
	for _, r := range roles {
		if rr := Role(strings.ToLower(strings.TrimSpace(r))); rr.Valid() {
			def = rr
			break
		}
	}
	if len(set.RoleRules) == 0 {
		return def
	}
	return ResolveRole(set.RoleRules, def, func(group string) bool {
		k := FoldKey(group)
		for _, g := range groups {
			if FoldKey(g.Name) == k || g.ID == group || (g.ExternalID != "" && g.ExternalID == group) {
				return true
			}
		}
		for _, r := range roles {
			if FoldKey(r) == k {
				return true
			}
		}
		return false
	})
}

// directoryUser loads a user the directory may see, or ErrNotFound.
func directoryUser(ctx context.Context, tx Tx, orgID, source, id string) (*User, error) {
	u, err := tx.UserByID(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if u.Source != source || u.Status == StatusArchived {
		return nil, &NotFoundError{Kind: "user", Key: id}
	}
	return u, nil
}

// directoryViews adds groups to users.
func directoryViews(ctx context.Context, tx Tx, us []User) ([]DirectoryUser, error) {
	ids := make([]string, len(us))
	for i := range us {
		ids[i] = us[i].ID
	}
	ms, err := tx.MembershipsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	groups := map[string][]GroupRef{}
	for _, m := range ms {
		groups[m.UserID] = append(groups[m.UserID], m.GroupRef)
	}
	out := make([]DirectoryUser, len(us))
	for i := range us {
		out[i] = DirectoryUser{User: us[i], Groups: groups[us[i].ID]}
	}
	return out, nil
}

// addGroups fills the groups of users in one query.
func addGroups(ctx context.Context, tx Tx, us []DirectoryUser) error {
	ids := make([]string, len(us))
	for i := range us {
		ids[i] = us[i].ID
	}
	ms, err := tx.MembershipsOf(ctx, ids)
	if err != nil {
		return err
	}
	idx := make(map[string]int, len(us))
	for i := range us {
		idx[us[i].ID] = i
	}
	for _, m := range ms {
		if i, ok := idx[m.UserID]; ok {
			us[i].Groups = append(us[i].Groups, m.GroupRef)
		}
	}
	return nil
}

func directoryView(ctx context.Context, tx Tx, u *User) (*DirectoryUser, error) {
	vs, err := directoryViews(ctx, tx, []User{*u})
	if err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// SearchDirectoryUsers runs a filtered, sorted, paged search in the store.
func (s *Service) SearchDirectoryUsers(ctx context.Context, q DirectoryQuery) ([]DirectoryUser, int, error) {
	if err := ValidateFilter(q.Filter, UserFilterAttrs); err != nil {
		return nil, 0, err
	}
	var out []DirectoryUser
	var total int
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, total, err = tx.SearchDirectoryUsers(ctx, q)
		if err != nil {
			return err
		}
		return addGroups(ctx, tx, out)
	})
	return out, total, err
}

// loadDirectoryUser reads a user of the source with profile and groups in
// two queries; archived users and other sources' users are not found.
func loadDirectoryUser(ctx context.Context, tx Tx, orgID, source, id string) (*DirectoryUser, error) {
	us, _, err := tx.SearchDirectoryUsers(ctx, DirectoryQuery{OrgID: orgID, Source: source, ExcludeArchived: true,
		Filter: Cmp(AttrID, OpEq, id), Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, &NotFoundError{Kind: "user", Key: id}
	}
	if err := addGroups(ctx, tx, us); err != nil {
		return nil, err
	}
	return &us[0], nil
}

// GetDirectoryUser returns one user of the directory's source (archived
// users do not exist for a directory).
func (s *Service) GetDirectoryUser(ctx context.Context, orgID, source, id string) (*DirectoryUser, error) {
	var out *DirectoryUser
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = loadDirectoryUser(ctx, tx, orgID, source, id)
		return err
	})
	return out, err
}

// directoryRoles are the values of a user's directory roles (SCIM "roles").
func directoryRoles(attrs Attributes) []string {
	var out []string
	for _, v := range attrs.List(AttrNameRoles) {
		if v.Value != "" {
			out = append(out, v.Value)
		}
	}
	return out
}

// CreateDirectoryUser creates a user of the actor's source. The token's
// settings decide the invitation (startNewUser): invited by mail, or active.
// A user without an email under an inviting token is created invited, with
// no invitation sent (invite status none, reason no_email). A user the
// directory sends inactive is created disabled.
func (s *Service) CreateDirectoryUser(ctx context.Context, a Actor, set *DirectorySettings, orgID string, in DirectoryUserInput) (*DirectoryUser, error) {
	if a.Kind != ActorSCIM && a.Kind != ActorLDAP {
		return nil, &ForbiddenError{Reason: "only directories create directory users"}
	}
	spec := in.spec(orgID, a.Source)
	if in.Role != nil {
		spec.BaseRole = *in.Role
	}
	if in.CanCreateApps != nil {
		spec.CanCreateApps = *in.CanCreateApps
	}
	spec.Role = RoleMember
	if spec.BaseRole == "" || spec.BaseRole.Valid() {
		spec.Role = directoryRole(set, spec.BaseRole, directoryRoles(in.Attributes), nil)
	}
	u, err := s.constructUser(spec)
	if err != nil {
		return nil, err
	}
	issue := startNewUser(u, set.InviteMode(), u.CreatedAt)
	var out *DirectoryUser
	err = s.writeTx(ctx, func(tx Tx) error {
		if err := checkManager(ctx, tx, orgID, a.Source, u.ID, u.ManagerID); err != nil {
			return err
		}
		if len(u.Metadata) > 0 {
			tpl, err := tx.MetadataTemplate(ctx, orgID)
			if err != nil {
				return err
			}
			if err := ValidateMetadata(tpl, u.Metadata); err != nil {
				return err
			}
		}
		// The unique indexes on username, email and external id answer
		// uniqueness (as a *ConflictError) without three look-ups first;
		// the organisation is a foreign key.
		if err := tx.InsertUser(ctx, u); errors.Is(err, ErrConflict) {
			// A user this directory removed (archived) keeps its names until
			// a new user needs them: release those and try once more.
			released, rerr := s.releaseArchived(ctx, tx, a, u)
			if rerr != nil {
				return rerr
			}
			if !released {
				return err
			}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, orgID, "user.create", "user", u.ID, nil, u); err != nil {
			return err
		}
		if _, err := s.issueNewUserInvite(ctx, tx, a, u, issue, ""); err != nil {
			return err
		}
		if in.Active != nil && !*in.Active {
			if err := s.transition(ctx, tx, a, u, ActDisable); err != nil {
				return err
			}
		}
		// A new user has no groups yet: no need to read them back.
		out = &DirectoryUser{User: *u}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", in.Username, err)
	}
	return out, nil
}

// spec is the one constructor's input for a directory user.
func (in *DirectoryUserInput) spec(orgID, source string) userSpec {
	return userSpec{OrgID: orgID, Source: source, Username: in.Username, Email: in.Email, FirstName: in.FirstName,
		LastName: in.LastName, Phone: in.Phone, Language: in.Language, ExternalID: in.ExternalID,
		DisplayName: in.DisplayName, ManagerID: in.ManagerID, Attributes: in.Attributes, Metadata: in.Metadata}
}

// ReplaceDirectoryUser makes a user of the actor's source match in: the
// directory is authoritative for every attribute it sends. check runs on the
// current state inside the transaction (ETag preconditions). Nothing is
// written, and no history recorded, when nothing changes.
func (s *Service) ReplaceDirectoryUser(ctx context.Context, a Actor, set *DirectorySettings, orgID, id string, in DirectoryUserInput, check func(*DirectoryUser) error) (*DirectoryUser, error) {
	var out *DirectoryUser
	err := s.writeTx(ctx, func(tx Tx) error {
		cur, err := loadDirectoryUser(ctx, tx, orgID, a.Source, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		uc := cur.User
		u := &uc
		before := cloneUser(&cur.User)
		u.Username = in.Username
		u.Email = directoryEmail(u.Email, in.Email)
		u.FirstName = in.FirstName
		u.LastName = in.LastName
		u.Phone = in.Phone
		u.Language = in.Language
		u.ExternalID = in.ExternalID
		u.DisplayName = in.DisplayName
		u.ManagerID = in.ManagerID
		u.Attributes = in.Attributes.Clone()
		if in.CanCreateApps != nil {
			u.CanCreateApps = *in.CanCreateApps
		}
		if in.Metadata != nil {
			u.Metadata = in.Metadata
		}
		if in.Role != nil {
			u.BaseRole = *in.Role
		}
		var p problems
		normalizeUser(&p, u)
		if u.BaseRole != "" && !u.BaseRole.Valid() {
			p.add("role", "%q is not one of owner, admin, user_manager, developer, member", u.BaseRole)
		} else {
			u.Role = directoryRole(set, u.BaseRole, directoryRoles(u.Attributes), cur.Groups)
			if err := keepOwner(ctx, tx, before, u, lastOwnerDemoted); err != nil {
				return err
			}
		}
		validateUserFields(&p, u)
		if err := p.err(); err != nil {
			return err
		}
		if u.ManagerID != before.ManagerID {
			if err := checkManager(ctx, tx, orgID, a.Source, u.ID, u.ManagerID); err != nil {
				return err
			}
		}
		if in.Metadata != nil && !maps.Equal(in.Metadata, before.Metadata) {
			tpl, err := tx.MetadataTemplate(ctx, orgID)
			if err != nil {
				return err
			}
			if err := ValidateMetadata(tpl, u.Metadata); err != nil {
				return err
			}
		}
		if !reflect.DeepEqual(snapshotOf(before), snapshotOf(u)) || u.BaseRole != before.BaseRole {
			if FoldKey(u.Username) != FoldKey(before.Username) || FoldKey(u.Email) != FoldKey(before.Email) || u.ExternalID != before.ExternalID {
				if err := checkUnique(ctx, tx, u, u.ID); err != nil {
					return err
				}
			}
			u.UpdatedAt = s.now()
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			if err := s.record(ctx, tx, a, orgID, "user.update", "user", u.ID, before, u); err != nil {
				return err
			}
		}
		if in.Active != nil && *in.Active != DirectoryActive(u.Status) {
			act := ActDisable
			if *in.Active {
				act = ActEnable
			}
			if err := s.transition(ctx, tx, a, u, act); err != nil {
				return err
			}
		}
		out = &DirectoryUser{User: *u, Groups: cur.Groups}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replace user %s: %w", id, err)
	}
	return out, nil
}

// checkManager refuses a manager reference that is not a (non-archived) user
// of the same source, or that is the user: the same rule as a group member.
func checkManager(ctx context.Context, tx Tx, orgID, source, userID, managerID string) error {
	if managerID == "" {
		return nil
	}
	if managerID == userID {
		return invalid("manager", "a user cannot be their own manager")
	}
	found, err := tx.ExistingUserIDs(ctx, orgID, source, []string{managerID})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return invalid("manager", "%q is not a user of this SCIM client", managerID)
	}
	return nil
}

// RemoveDirectoryUser is a directory's DELETE: a user who never accepted is
// deleted; anyone else is archived (history kept). Either way the user no
// longer exists for the directory, and it may create the same username,
// email or external id again (see releaseArchived).
func (s *Service) RemoveDirectoryUser(ctx context.Context, a Actor, orgID, id string, check func(*DirectoryUser) error) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := directoryUser(ctx, tx, orgID, a.Source, id)
		if err != nil {
			return err
		}
		if check != nil {
			cur, err := directoryView(ctx, tx, u)
			if err != nil {
				return err
			}
			if err := check(cur); err != nil {
				return err
			}
		}
		if CanDelete(u) {
			if err := tx.DeleteUser(ctx, orgID, id); err != nil {
				return err
			}
			return s.record(ctx, tx, a, orgID, "user.delete", "user", u.ID, u, nil)
		}
		return s.transition(ctx, tx, a, u, ActArchive)
	})
	if err != nil {
		return fmt.Errorf("remove user %s: %w", id, err)
	}
	return nil
}

// releaseArchived frees the username, email and external id that u wants
// from archived users of u's own source (users its directory removed), so
// that the directory can create them again. It reports whether it released any.
func (s *Service) releaseArchived(ctx context.Context, tx Tx, a Actor, u *User) (bool, error) {
	var others []*User
	if o, err := tx.UserByUsername(ctx, u.OrgID, u.Username); err == nil {
		others = append(others, o)
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if o, err := tx.UserByEmail(ctx, u.OrgID, u.Email); err == nil {
		others = append(others, o)
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if o, err := tx.UserByExternalID(ctx, u.OrgID, u.Source, u.ExternalID); err == nil {
		others = append(others, o)
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	released := false
	for _, o := range others {
		if o.Status != StatusArchived || o.Source != u.Source {
			return false, nil // taken by a live user or another source: a real conflict
		}
	}
	seen := map[string]bool{}
	for _, o := range others {
		if seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		if err := tx.ReleaseArchivedUser(ctx, o.OrgID, o.ID); err != nil {
			return false, err
		}
		after := *o
		after.ExternalID = ""
		if err := s.record(ctx, tx, a, o.OrgID, "user.release_names", "user", o.ID, o, &after); err != nil {
			return false, err
		}
		released = true
	}
	return released, nil
}

// recomputeRoles applies role rules again to users whose groups changed.
// A rule that would make an admin of a user without email is skipped (the
// user keeps their role) rather than failing the whole change.
func (s *Service) recomputeRoles(ctx context.Context, tx Tx, a Actor, set *DirectorySettings, orgID string, ids []string) error {
	if len(set.RoleRules) == 0 || len(ids) == 0 {
		return nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	us, err := tx.UsersByIDs(ctx, orgID, ids)
	if err != nil {
		return err
	}
	vs, err := directoryViews(ctx, tx, us)
	if err != nil {
		return err
	}
	now := s.now()
	for i := range vs {
		v := &vs[i]
		if v.Source != a.Source || v.Status == StatusArchived {
			continue
		}
		role := directoryRole(set, v.BaseRole, directoryRoles(v.Attributes), v.Groups)
		if role == v.Role || (role.IsAdmin() && v.Email == "") {
			continue
		}
		u := v.User
		before := u
		u.Role = role
		if err := keepOwner(ctx, tx, &before, &u, lastOwnerDemoted); err != nil {
			if domainErr(err) {
				continue // the last owner keeps the role
			}
			return err
		}
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, orgID, "user.role", "user", u.ID, &before, &u); err != nil {
			return err
		}
	}
	return nil
}
