package core

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// InviteMode says how a new user is invited.
type InviteMode string

const (
	InviteByMail InviteMode = "mail" // an invitation mail is queued
	InviteByLink InviteMode = "link" // the link is returned to the admin to send themself
	NoInvite     InviteMode = "none" // the user starts active (directory users with invite: false, or a password set now)
)

// NewUser is the input of CreateUser.
type NewUser struct {
	OrgID         string
	Username      string
	Email         string
	FirstName     string
	LastName      string
	Phone         string
	Language      string
	Role          Role // member when empty
	CanCreateApps bool
	Source        string // native when empty; directory actors' own source otherwise
	ExternalID    string
	DisplayName   string
	ManagerID     string
	Attributes    Attributes // document attributes (UserSchema)
	Metadata      map[string]string
	Invite        InviteMode // mail when empty
	MailLanguage  string     // language of the invitation mail; from Language when empty
	Password      string     // optional initial password (native users)

	issue InviteMode // what startNewUser decided to issue; set by prepareUser
}

// UserView is a user as shown to doors: the stored user with derived fields.
type UserView struct {
	User
	FullName     string       `json:"full_name"`
	InviteStatus InviteStatus `json:"invite_status"`
	// InviteReason says why a user waiting for an invitation has none
	// (invite status none): no_email or not_sent. Empty otherwise.
	InviteReason InviteReason    `json:"invite_reason,omitempty"`
	Groups       []string        `json:"groups"`
	Apps         []AppAssignment `json:"apps"`
}

// Created is the result of CreateUser. InviteToken is set when an invite was
// issued by link: the door returns the link to the admin. A mailed invite's
// token goes to the outbox only.
type Created struct {
	User        *UserView
	InviteToken string
}

func (s *Service) view(ctx context.Context, tx Tx, u *User) (*UserView, error) {
	v := &UserView{User: *u, FullName: u.FullName(), InviteStatus: DeriveInviteStatus(u, s.now()), InviteReason: DeriveInviteReason(u), Groups: []string{}, Apps: []AppAssignment{}}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	gs, err := tx.UserGroups(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("groups of user %s: %w", u.ID, err)
	}
	for _, g := range gs {
		v.Groups = append(v.Groups, g.Name)
	}
	apps, err := tx.UserApps(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("apps of user %s: %w", u.ID, err)
	}
	v.Apps = append(v.Apps, apps...)
	return v, nil
}

// validateUserFields checks the fields common to create and update.
func validateUserFields(p *problems, u *User) {
	checkUsername(p, u.Username)
	checkEmail(p, u.Email)
	checkText(p, "first_name", u.FirstName, MaxNameLen)
	checkText(p, "last_name", u.LastName, MaxNameLen)
	checkPhone(p, u.Phone)
	checkLanguage(p, u.Language)
	checkText(p, "external_id", u.ExternalID, MaxExternalID)
	if !u.Role.Valid() {
		p.add("role", "%q is not one of owner, admin, user_manager, developer, member", u.Role)
	} else if u.Role.IsAdmin() && u.Email == "" {
		p.add("email", "is required for %ss", u.Role)
	}
}

// CreateUser adds a user through the rules every door shares, with its
// history entry and invite in the same transaction.
func (s *Service) CreateUser(ctx context.Context, a Actor, in NewUser) (*Created, error) {
	u, in, err := s.prepareUser(ctx, a, in)
	if err != nil {
		return nil, err
	}
	var out *UserView
	var token string
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := checkNewUser(ctx, tx, u); err != nil {
			return err
		}
		if token, err = s.insertUser(ctx, tx, a, u, in); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", in.Username, err)
	}
	return &Created{User: out, InviteToken: token}, nil
}

// prepareUser applies defaults, checks permission and every field that needs
// no database, and hashes an initial password: the part of creating a user
// that happens before its transaction.
func (s *Service) prepareUser(ctx context.Context, a Actor, in NewUser) (*User, NewUser, error) {
	if in.Role == "" {
		in.Role = RoleMember
	}
	if in.Invite == "" {
		in.Invite = InviteByMail
	}
	source := in.Source
	switch a.Kind {
	case ActorSCIM, ActorLDAP:
		if source == "" {
			source = a.Source
		}
		if source != a.Source {
			return nil, in, &ForbiddenError{Reason: "a directory creates users of its own source only"}
		}
	default:
		if source == "" {
			source = SourceNative
		}
	}
	if err := authorizeCreate(a, in.Role); err != nil {
		return nil, in, err
	}
	u, cerr := s.constructUser(userSpec{OrgID: in.OrgID, Source: source, Username: in.Username, Email: in.Email,
		FirstName: in.FirstName, LastName: in.LastName, Phone: in.Phone, Language: in.Language, ExternalID: in.ExternalID,
		DisplayName: in.DisplayName, ManagerID: in.ManagerID, Attributes: in.Attributes, Metadata: in.Metadata,
		Role: in.Role, CanCreateApps: in.CanCreateApps})
	var p problems
	if cerr != nil {
		var ve *ValidationError
		if !errors.As(cerr, &ve) {
			return nil, in, cerr
		}
		p = append(p, ve.Problems...)
	}
	now := s.now()
	switch in.Invite {
	case InviteByMail:
		if in.MailLanguage != "" {
			checkMailLanguage(&p, "mail_language", in.MailLanguage)
		}
	case InviteByLink, NoInvite:
	default:
		p.add("invite", "%q is not one of mail, link, none", in.Invite)
	}
	if in.Password != "" && source != SourceNative {
		p.add("password", "directory users authenticate against their directory")
	}
	if err := p.err(); err != nil {
		return nil, in, err
	}
	if in.Password != "" {
		if err := s.setPassword(ctx, u, in.Password); err != nil {
			return nil, in, err
		}
	}
	in.issue = startNewUser(u, in.Invite, now)
	return u, in, nil
}

// checkNewUser checks what needs the database: the organisation exists, the
// metadata fits its template, and username, email and external id are free.
func checkNewUser(ctx context.Context, tx Tx, u *User) error {
	if _, err := tx.OrgByID(ctx, u.OrgID); err != nil {
		return err
	}
	tpl, err := tx.MetadataTemplate(ctx, u.OrgID)
	if err != nil {
		return err
	}
	if err := ValidateMetadata(tpl, u.Metadata); err != nil {
		return err
	}
	return checkUnique(ctx, tx, u, "")
}

// insertUser writes a prepared, checked user with its history entry and, as
// asked, its invite and invitation mail. It returns the invite token only
// when the caller is to hand out the link.
func (s *Service) insertUser(ctx context.Context, tx Tx, a Actor, u *User, in NewUser) (string, error) {
	if u.Language == "" {
		o, err := orgSettingsOf(ctx, tx, u.OrgID)
		if err != nil {
			return "", err
		}
		u.Language = o.DefaultLanguage
	}
	if err := tx.InsertUser(ctx, u); err != nil {
		return "", err
	}
	if err := s.record(ctx, tx, a, u.OrgID, "user.create", "user", u.ID, nil, u); err != nil {
		return "", err
	}
	return s.issueNewUserInvite(ctx, tx, a, u, in.issue, in.MailLanguage)
}

// checkUnique gives a friendly error before the store's unique indexes would.
func checkUnique(ctx context.Context, tx Tx, u *User, selfID string) error {
	if other, err := tx.UserByUsername(ctx, u.OrgID, u.Username); err == nil && other.ID != selfID {
		return &ConflictError{Field: "username", Message: fmt.Sprintf("%q is already taken in this organisation", u.Username)}
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if u.Email != "" {
		if other, err := tx.UserByEmail(ctx, u.OrgID, u.Email); err == nil && other.ID != selfID {
			return &ConflictError{Field: "email", Message: fmt.Sprintf("%q is already used by another user in this organisation", u.Email)}
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if u.ExternalID != "" {
		if other, err := tx.UserByExternalID(ctx, u.OrgID, u.Source, u.ExternalID); err == nil && other.ID != selfID {
			return &ConflictError{Field: "external_id", Message: fmt.Sprintf("%q is already used by another user of source %s", u.ExternalID, u.Source)}
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// setPassword checks a new password against the organisation's policy and
// stores its hash. It reads the policy in its own read transaction, so it can
// run before or inside a write.
func (s *Service) setPassword(ctx context.Context, u *User, password string) error {
	if s.hasher == nil {
		return errors.New("core: no password hasher configured")
	}
	policy, err := s.PasswordPolicy(ctx, u.OrgID)
	if err != nil {
		return err
	}
	if err := policy.Check(password, u); err != nil {
		return err
	}
	h, err := s.hashPassword(ctx, password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	now := s.now()
	u.PasswordHash = h
	u.PasswordChangedAt = &now
	return nil
}

// issueInvite voids earlier invites and issues a new single-use token.
func (s *Service) issueInvite(ctx context.Context, tx Tx, a Actor, u *User) (string, error) {
	token, err := NewSecret(PrefixInvite)
	if err != nil {
		return "", err
	}
	now := s.now()
	if err := tx.VoidInvites(ctx, u.ID, now); err != nil {
		return "", err
	}
	if err := tx.CancelUserMail(ctx, u.ID, MailInvite, now); err != nil {
		return "", err
	}
	validFor, err := s.inviteValidity(ctx, tx, u.OrgID)
	if err != nil {
		return "", err
	}
	inv := &Invite{ID: newID(), OrgID: u.OrgID, UserID: u.ID, TokenHash: HashSecret(token), CreatedAt: now, ExpiresAt: now.Add(validFor)}
	if err := tx.InsertInvite(ctx, inv); err != nil {
		return "", err
	}
	u.InviteState = InviteStateSent
	u.InviteExpiresAt = &inv.ExpiresAt
	u.InviteMailError = ""
	u.UpdatedAt = now
	if err := tx.UpdateUser(ctx, u); err != nil {
		return "", err
	}
	if err := s.record(ctx, tx, a, u.OrgID, "invite.issue", "user", u.ID, nil, map[string]any{"expires_at": inv.ExpiresAt}); err != nil {
		return "", err
	}
	return token, nil
}

// GetUser returns one user of an organisation.
func (s *Service) GetUser(ctx context.Context, orgID, id string) (*UserView, error) {
	var out *UserView
	err := s.store.View(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, orgID, id)
		if err != nil {
			return err
		}
		out, err = s.view(ctx, tx, u)
		return err
	})
	return out, err
}

// GetUserByUsername returns one user of an organisation by username (case-insensitive).
func (s *Service) GetUserByUsername(ctx context.Context, orgID, username string) (*UserView, error) {
	var out *UserView
	err := s.store.View(ctx, func(tx Tx) error {
		u, err := tx.UserByUsername(ctx, orgID, username)
		if err != nil {
			return err
		}
		out, err = s.view(ctx, tx, u)
		return err
	})
	return out, err
}

// ListUsers returns users in creation order.
func (s *Service) ListUsers(ctx context.Context, q UserQuery) ([]UserView, error) {
	var out []UserView
	err := s.store.View(ctx, func(tx Tx) error {
		us, err := tx.ListUsers(ctx, q)
		if err != nil {
			return err
		}
		out = make([]UserView, 0, len(us))
		for i := range us {
			v, err := s.view(ctx, tx, &us[i])
			if err != nil {
				return err
			}
			out = append(out, *v)
		}
		return nil
	})
	return out, err
}

// UserChanges is a partial update; nil fields are left alone. Metadata, when
// non-nil, replaces the whole map.
type UserChanges struct {
	Username      *string
	Email         *string
	FirstName     *string
	LastName      *string
	Phone         *string
	Language      *string
	Role          *Role
	CanCreateApps *bool
	ExternalID    *string
	DisplayName   *string
	ManagerID     *string
	// Attributes changes document attributes: each one named replaces the
	// stored value (an empty value removes it); others are left alone.
	Attributes Attributes
	Metadata   map[string]string
}

// EmailSettable reports whether an admin may set u's email: once, while it
// is empty (a user created without one — from a directory, or a native
// non-admin — could otherwise never be invited or made admin). A set email
// is immutable for admins; the user's own directory source may change it.
func EmailSettable(u *User) bool { return u.Email == "" }

// directoryEmail is the email a directory's update leaves on a user: the one
// it sends, or, when it sends none, the stored one. An email set once by an
// admin is not erased by a directory that has none; a directory that sends an
// email stays authoritative for it.
func directoryEmail(stored, sent string) string {
	if sent = strings.TrimSpace(sent); sent != "" {
		return sent
	}
	return stored
}

// UpdateUser changes a user's attributes. Admins may not change username, nor
// an email once set (EmailSettable), nor the attributes a directory manages
// for its users; the user's own directory source may change all of them.
func (s *Service) UpdateUser(ctx context.Context, a Actor, orgID, id string, c UserChanges) (*UserView, error) {
	var out *UserView
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := manageable(ctx, tx, a, orgID, id, false)
		if err != nil {
			return err
		}
		before := cloneUser(u)
		fromOwnSource := (a.Kind == ActorSCIM || a.Kind == ActorLDAP) && a.Source == u.Source
		var p problems
		set := func(field string, dst *string, v *string, adminMayEdit bool) {
			if v == nil || *v == *dst {
				return
			}
			if !fromOwnSource && (!adminMayEdit || u.IsDirectory()) {
				if adminMayEdit {
					p.add(field, "is managed by the user's directory (%s) and cannot be edited here", u.Source)
				} else {
					p.add(field, "cannot be edited by an admin")
				}
				return
			}
			*dst = strings.TrimSpace(*v)
		}
		set("username", &u.Username, c.Username, false)
		if c.Email != nil && strings.TrimSpace(*c.Email) != u.Email {
			if fromOwnSource || EmailSettable(u) {
				u.Email = strings.TrimSpace(*c.Email)
			} else {
				p.add("email", "cannot be edited by an admin once set (an email can be set once, while it is empty)")
			}
		}
		set("first_name", &u.FirstName, c.FirstName, true)
		set("last_name", &u.LastName, c.LastName, true)
		set("phone", &u.Phone, c.Phone, true)
		set("external_id", &u.ExternalID, c.ExternalID, true)
		set(AttrNameDisplayName, &u.DisplayName, c.DisplayName, true)
		set(AttrNameManager, &u.ManagerID, c.ManagerID, true)
		if c.Phone != nil && u.Phone != before.Phone {
			setPrimary(u.Attributes, AttrNamePhones, u.Phone)
		}
		if c.Email != nil && u.Email != before.Email {
			setPrimary(u.Attributes, AttrNameEmails, u.Email)
		}
		for _, name := range slices.Sorted(maps.Keys(c.Attributes)) {
			def, ok := SchemaAttribute(name)
			switch {
			case !ok || def.Storage != StoreDocument:
				p.add("attributes."+name, "is not a user attribute (see GET /api/v1/org/user-schema)")
				continue
			case fromOwnSource:
			case !def.AdminWrite:
				p.add("attributes."+name, "cannot be edited by an admin")
				continue
			case def.Directory && u.IsDirectory():
				if !reflect.DeepEqual(c.Attributes[name], u.Attributes[name]) {
					p.add("attributes."+name, "is managed by the user's directory (%s) and cannot be edited here", u.Source)
				}
				continue
			}
			v := c.Attributes[name]
			if v.List != nil {
				u.Attributes.SetList(name, v.List)
			} else {
				u.Attributes.SetStr(name, v.Str)
			}
		}
		if c.Language != nil {
			u.Language = *c.Language
		}
		if c.CanCreateApps != nil {
			u.CanCreateApps = *c.CanCreateApps
		}
		if c.Role != nil && *c.Role != u.Role {
			if err := authorizeCreate(a, *c.Role); err != nil {
				return err
			}
			u.Role = *c.Role
			if err := keepOwner(ctx, tx, before, u, lastOwnerDemoted); err != nil {
				return err
			}
		}
		if c.Metadata != nil {
			u.Metadata = c.Metadata
		}
		if err := p.err(); err != nil {
			return err
		}
		normalizeUser(&p, u)
		validateUserFields(&p, u)
		if err := p.err(); err != nil {
			return err
		}
		if u.ManagerID != before.ManagerID && u.ManagerID != "" {
			if u.ManagerID == u.ID {
				return invalid(AttrNameManager, "a user cannot be their own manager")
			}
			if ms, err := tx.UsersByIDs(ctx, orgID, []string{u.ManagerID}); err != nil {
				return err
			} else if len(ms) == 0 {
				return invalid(AttrNameManager, "%q is not a user of this organisation", u.ManagerID)
			}
		}
		if c.Metadata != nil {
			tpl, err := tx.MetadataTemplate(ctx, orgID)
			if err != nil {
				return err
			}
			if err := ValidateMetadata(tpl, u.Metadata); err != nil {
				return err
			}
		}
		if err := checkUnique(ctx, tx, u, u.ID); err != nil {
			return err
		}
		u.UpdatedAt = s.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, orgID, "user.update", "user", u.ID, before, u); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update user %s: %w", id, err)
	}
	return out, nil
}

// ChangeStatus applies a lifecycle action. A user who can no longer log in
// loses every session in the same transaction.
func (s *Service) ChangeStatus(ctx context.Context, a Actor, orgID, id string, act Action) (*UserView, error) {
	var out *UserView
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := manageable(ctx, tx, a, orgID, id, act == ActDisable || act == ActArchive)
		if err != nil {
			return err
		}
		if err := s.transition(ctx, tx, a, u, act); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s user %s: %w", act, id, err)
	}
	return out, nil
}

// transition moves u under act, writes it, its history and ends sessions.
func (s *Service) transition(ctx context.Context, tx Tx, a Actor, u *User, act Action) error {
	to, err := Transition(u, act)
	if err != nil {
		return err
	}
	before := *u
	after := *u
	after.Status = to
	if err := keepOwner(ctx, tx, &before, &after, ownerLoss(act)); err != nil {
		return err
	}
	now := s.now()
	switch act {
	case ActArchive:
		u.StatusBeforeArchive = u.Status
	case ActRestore:
		u.StatusBeforeArchive = ""
	case ActUnlock:
		u.FailedLogins = 0
	case ActAccept:
		u.ActivatedAt = &now
	}
	if to == StatusActive && u.ActivatedAt == nil {
		u.ActivatedAt = &now
	}
	if to == StatusLocked {
		u.LockedAt = &now
	} else {
		u.LockedAt = nil
	}
	u.Status = to
	u.UpdatedAt = now
	if err := tx.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := s.record(ctx, tx, a, u.OrgID, "user."+string(act), "user", u.ID, &before, u); err != nil {
		return err
	}
	if !to.CanLogIn() {
		n, err := tx.DeleteSessions(ctx, u.ID, "")
		if err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if n > 0 {
			if err := s.record(ctx, tx, a, u.OrgID, "user.sessions_revoked", "user", u.ID, nil, map[string]any{"sessions_ended": n, "reason": to}); err != nil {
				return err
			}
		}
	}
	if to == StatusDisabled || to == StatusArchived {
		// Revoked, not suspended: enabling or restoring the user later does
		// not bring their admin tokens back. (A locked or inactive user's
		// tokens are only suspended while the status lasts.)
		n, err := tx.RevokeUserTokens(ctx, u.ID, now)
		if err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		if n > 0 {
			return s.record(ctx, tx, a, u.OrgID, "user.tokens_revoked", "user", u.ID, nil, map[string]any{"tokens_revoked": n, "reason": to})
		}
	}
	return nil
}

// endSessions ends every session of u but keepID (all when keepID is ""),
// with a history entry when there were any.
func (s *Service) endSessions(ctx context.Context, tx Tx, a Actor, u *User, keepID, reason string) error {
	n, err := tx.DeleteSessionsExcept(ctx, u.ID, keepID)
	if err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	if n == 0 {
		return nil
	}
	return s.record(ctx, tx, a, u.OrgID, "user.sessions_revoked", "user", u.ID, nil, map[string]any{"sessions_ended": n, "reason": reason})
}

// DeleteUser removes a user who never accepted an invitation. Anyone with
// history must be archived instead: the error says so.
func (s *Service) DeleteUser(ctx context.Context, a Actor, orgID, id string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := manageable(ctx, tx, a, orgID, id, true)
		if err != nil {
			return err
		}
		if !CanDelete(u) {
			return &TransitionError{Action: "delete", From: u.Status, Reason: whyNotDeletable(u)}
		}
		if err := keepOwner(ctx, tx, u, nil, "be deleted"); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, orgID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "user.delete", "user", u.ID, u, nil)
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// whyNotDeletable says why a user who was ever active is archived, not
// deleted: by how they became active.
func whyNotDeletable(u *User) string {
	if u.InviteState == InviteStateAccepted {
		return "the user accepted their invitation and has history; archive them instead"
	}
	return "the user was created active (without an invitation) and has history; archive them instead"
}

// AcceptInvite consumes a single-use invitation token: the user becomes
// active; a native user sets their password at the same time.
func (s *Service) AcceptInvite(ctx context.Context, token, password string) (*UserView, error) {
	var out *UserView
	err := s.store.InTx(ctx, func(tx Tx) error {
		inv, err := tx.InviteByTokenHash(ctx, HashSecret(token))
		if errors.Is(err, ErrNotFound) {
			return invalid("token", "the invitation link is not valid")
		} else if err != nil {
			return err
		}
		now := s.now()
		switch {
		case inv.UsedAt != nil:
			return invalid("token", "the invitation link was already used")
		case inv.VoidedAt != nil:
			return invalid("token", "the invitation link was replaced by a newer one")
		case now.After(inv.ExpiresAt):
			return invalid("token", "the invitation link has expired; ask an administrator to resend it")
		}
		u, err := tx.UserByID(ctx, inv.OrgID, inv.UserID)
		if err != nil {
			return err
		}
		if !u.IsDirectory() {
			if password == "" {
				return invalid("password", "is required")
			}
			if err := s.setPassword(ctx, u, password); err != nil {
				return err
			}
		}
		if err := tx.MarkInviteUsed(ctx, inv.ID, now); err != nil {
			return err
		}
		u.InviteState = InviteStateAccepted
		self := Actor{Kind: ActorSelf, ID: u.ID, Name: u.Username}
		if err := s.transition(ctx, tx, self, u, ActAccept); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("accept invite: %w", err)
	}
	return out, nil
}

// SetPassword assigns a native user's password (an admin reassigning one, or
// the CLI). An admin-assigned password must be changed at next login.
func (s *Service) SetPassword(ctx context.Context, a Actor, orgID, id, password string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := manageable(ctx, tx, a, orgID, id, false)
		if err != nil {
			return err
		}
		if u.IsDirectory() {
			return invalid("password", "directory users authenticate against their directory (%s)", u.Source)
		}
		if err := s.setPassword(ctx, u, password); err != nil {
			return err
		}
		u.MustChangePassword = a.Kind == ActorAdmin
		u.UpdatedAt = s.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, orgID, "user.set_password", "user", u.ID, nil, map[string]any{"password": "[redacted]", "must_change_password": u.MustChangePassword}); err != nil {
			return err
		}
		// A reassigned password ends every session of the user (whoever held
		// the old password is signed out).
		return s.endSessions(ctx, tx, a, u, "", "password_set")
	})
	if err != nil {
		return fmt.Errorf("set password of user %s: %w", id, err)
	}
	return nil
}

// UserRepo stores users.
type UserRepo interface {
	InsertUser(ctx context.Context, u *User) error
	// InsertUsers inserts many users with one statement per couple hundred;
	// on a uniqueness violation none of them is inserted.
	InsertUsers(ctx context.Context, us []*User) error
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, orgID, id string) error
	UserByID(ctx context.Context, orgID, id string) (*User, error)
	UserByUsername(ctx context.Context, orgID, username string) (*User, error)
	UserByEmail(ctx context.Context, orgID, email string) (*User, error)
	UserByExternalID(ctx context.Context, orgID, source, externalID string) (*User, error)
	UsersByIDs(ctx context.Context, orgID string, ids []string) ([]User, error)
	ListUsers(ctx context.Context, q UserQuery) ([]User, error)
	// UsersIdleSince lists an organisation's active users whose last login
	// (or activation, if they never logged in) is before cutoff.
	UsersIdleSince(ctx context.Context, orgID string, cutoff time.Time, limit int) ([]User, error)
	// UserStatusCounts counts users by status, across organisations (metrics).
	UserStatusCounts(ctx context.Context) (map[Status]int64, error)
	// ReleaseArchivedUser frees an archived user's unique keys for a new user.
	ReleaseArchivedUser(ctx context.Context, orgID, id string) error
}
