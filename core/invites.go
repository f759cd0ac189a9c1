package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// inviteTokenRE is the shape of an invitation token: the prefix and 32
// random bytes in unpadded base64url (43 characters).
var inviteTokenRE = regexp.MustCompile(`^` + PrefixInvite + `[A-Za-z0-9_-]{43}$`)

// ValidInviteToken reports whether token has the shape of an invitation
// token (it says nothing about whether it exists).
func ValidInviteToken(token string) bool { return inviteTokenRE.MatchString(token) }

// queueInviteMail puts the invitation mail for the invite just issued into
// the outbox, in the caller's transaction: it is queued if and only if the
// invite commits. The row carries the raw token until it is delivered.
func (s *Service) queueInviteMail(ctx context.Context, tx Tx, u *User, token, language string) error {
	inv, err := tx.InviteByTokenHash(ctx, HashSecret(token))
	if err != nil {
		return fmt.Errorf("queue invitation mail: %w", err)
	}
	if language == "" {
		if language, err = s.pickMailLanguage(ctx, tx, u.OrgID, MailInvite, u.Language); err != nil {
			return fmt.Errorf("queue invitation mail: %w", err)
		}
	}
	now := s.now()
	m := &OutboxMail{
		ID: newID(), OrgID: u.OrgID, UserID: u.ID, RefID: inv.ID, Kind: MailInvite,
		Language: language, To: u.Email, Token: token, State: MailQueued, NextAttemptAt: now, CreatedAt: now,
	}
	if err := tx.InsertMail(ctx, m); err != nil {
		return fmt.Errorf("queue invitation mail: %w", err)
	}
	return nil
}

// Resend says how an invitation is sent again.
type Resend struct {
	Mode     InviteMode // InviteByMail (default) or InviteByLink ("send your own invitation")
	Language string     // the mail's language; the user's language when empty
}

// Resent is the result of ResendInvite. InviteToken is set only in link
// mode: the door turns it into the link it returns to the admin.
type Resent struct {
	User        *UserView
	InviteToken string
}

// ResendInvite issues a new invitation for a user who has not accepted
// (pending, expired, mail error), voids the old link and its queued mails,
// and either queues the mail in the chosen language or returns the link.
func (s *Service) ResendInvite(ctx context.Context, a Actor, orgID, id string, r Resend) (*Resent, error) {
	if r.Mode == "" {
		r.Mode = InviteByMail
	}
	var p problems
	switch r.Mode {
	case InviteByMail, InviteByLink:
	default:
		p.add("invite", "%q is not one of mail, link", r.Mode)
	}
	if r.Language != "" {
		checkMailLanguage(&p, "language", r.Language)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	out := &Resent{}
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := manageable(ctx, tx, a, orgID, id, false)
		if err != nil {
			return err
		}
		if u.Status != StatusInvited {
			return &TransitionError{Action: "resend the invitation of", From: u.Status, Reason: "only invited users who have not accepted can be re-invited"}
		}
		if r.Mode == InviteByMail && u.Email == "" {
			return invalid("email", "is required to send an invitation")
		}
		if r.Mode == InviteByMail {
			if r.Language, err = availableLanguage(ctx, tx, orgID, MailInvite, "language", r.Language); err != nil {
				return err
			}
		}
		token, err := s.issueInvite(ctx, tx, a, u)
		if err != nil {
			return err
		}
		if r.Mode == InviteByMail {
			if err := s.queueInviteMail(ctx, tx, u, token, r.Language); err != nil {
				return err
			}
		} else {
			out.InviteToken = token
		}
		out.User, err = s.view(ctx, tx, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("resend invite to user %s: %w", id, err)
	}
	return out, nil
}

// ---- the outbox, as the mail worker sees it ----

// InviteInfo is what the acceptance page shows before the user accepts.
type InviteInfo struct {
	FirstName     string
	OrgName       string
	SupportEmail  string // the organisation's, "" when unset
	CatalogURL    string // the organisation's app catalog, "" when unset
	Username      string
	NeedsPassword bool // native users set a password; directory users confirm
	ExpiresAt     time.Time
	Language      string         // the language the link was mailed in, else the user's (one of MailLanguages)
	Policy        PasswordPolicy // the organisation's, for the page to state
}

// mailLanguageOf is the language of the mail that carried the link refID,
// else the mail language of the user's preferred language.
func mailLanguageOf(ctx context.Context, tx Tx, u *User, refID string) (string, error) {
	ms, err := tx.ListUserMail(ctx, u.OrgID, u.ID)
	if err != nil {
		return "", err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].RefID == refID && IsMailLanguage(ms[i].Language) {
			return ms[i].Language, nil
		}
	}
	return PickMailLanguage(u.Language), nil
}

// LookupInvite checks an invitation token without using it: the same errors
// as AcceptInvite for a token that is malformed, unknown, used, replaced or
// expired.
func (s *Service) LookupInvite(ctx context.Context, token string) (*InviteInfo, error) {
	if !ValidInviteToken(token) {
		return nil, invalid("token", "the invitation link is malformed; copy the whole link from the mail")
	}
	var out *InviteInfo
	err := s.store.View(ctx, func(tx Tx) error {
		inv, err := tx.InviteByTokenHash(ctx, HashSecret(token))
		if errors.Is(err, ErrNotFound) {
			return invalid("token", "the invitation link is not valid")
		} else if err != nil {
			return err
		}
		switch {
		case inv.UsedAt != nil:
			return invalid("token", "the invitation link was already used")
		case inv.VoidedAt != nil:
			return invalid("token", "the invitation link was replaced by a newer one")
		case s.now().After(inv.ExpiresAt):
			return invalid("token", "the invitation link has expired; ask an administrator to resend it")
		}
		u, err := tx.UserByID(ctx, inv.OrgID, inv.UserID)
		if err != nil {
			return err
		}
		o, err := tx.OrgByID(ctx, inv.OrgID)
		if err != nil {
			return err
		}
		name := o.DisplayName
		if name == "" {
			name = o.Name
		}
		lang, err := mailLanguageOf(ctx, tx, u, inv.ID)
		if err != nil {
			return err
		}
		policy, err := policyOf(ctx, tx, u.OrgID)
		if err != nil {
			return err
		}
		out = &InviteInfo{FirstName: u.FirstName, OrgName: name, SupportEmail: o.SupportEmail, CatalogURL: o.CatalogURL, Username: u.Username, NeedsPassword: !u.IsDirectory(),
			ExpiresAt: inv.ExpiresAt, Language: lang, Policy: policy}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InviteRepo stores invitations. Only the SHA-256 of a token is stored.
type InviteRepo interface {
	InsertInvite(ctx context.Context, inv *Invite) error
	InviteByTokenHash(ctx context.Context, hash string) (*Invite, error)
	VoidInvites(ctx context.Context, userID string, at time.Time) error
	MarkInviteUsed(ctx context.Context, id string, at time.Time) error
}

// InviteReason says why a user who is waiting for an invitation has none:
// the derived invite status is then InviteNone, and the reason tells an admin
// what to do about it.
type InviteReason string

const (
	// InviteReasonNoEmail: the user was created by a door that invites,
	// but without an email; no invitation was sent. An admin may set the
	// email (once, while it is empty) and send the invitation.
	InviteReasonNoEmail InviteReason = "no_email"
	// InviteReasonNotSent: the user now has an email, but the invitation
	// the missing email held back has not been sent yet.
	InviteReasonNotSent InviteReason = "not_sent"
	// InviteReasonUserDisabled and InviteReasonUserArchived are the reasons
	// of an invitation on hold (InviteOnHold).
	InviteReasonUserDisabled InviteReason = "user_disabled"
	InviteReasonUserArchived InviteReason = "user_archived"
)

// DeriveInviteReason is the reason behind an InviteNone status for a user
// who waits for an invitation (status invited, none issued), or behind an
// invitation on hold (the user is disabled or archived); "" otherwise.
func DeriveInviteReason(u *User) InviteReason {
	if (u.InviteState == InviteStateSent || u.InviteState == InviteStateMailError) && invitationHeld(u.Status) {
		if u.Status == StatusArchived {
			return InviteReasonUserArchived
		}
		return InviteReasonUserDisabled
	}
	if u.Status != StatusInvited || u.InviteState != InviteStateNone {
		return ""
	}
	if u.Email == "" {
		return InviteReasonNoEmail
	}
	return InviteReasonNotSent
}

// startNewUser is the invite rule every path that creates a user shares (the
// admin API and CLI, imports, SCIM create, LDAP full sync and on-demand
// import): it sets the new user's status from what the door asks for, and
// answers what to issue in the creating transaction.
//
//   - NoInvite: the user starts active; nothing is issued.
//   - InviteByLink: invited; a link is issued for the caller to hand out
//     (an email is not needed for that).
//   - InviteByMail: invited; the invitation is mailed. Without an email the
//     user is created all the same, invited, with nothing issued (invite
//     status none, reason no_email): an email is required only where the
//     user rules need one (owners and admins, checked by validateUserFields).
//
// The answer is one of InviteByMail, InviteByLink or NoInvite (issue nothing).
func startNewUser(u *User, want InviteMode, now time.Time) InviteMode {
	if want == NoInvite {
		u.Status = StatusActive
		u.ActivatedAt = &now
		return NoInvite
	}
	u.Status = StatusInvited
	u.InviteState = InviteStateNone
	return inviteToIssue(want, u.Email)
}

// inviteToIssue is the part of startNewUser that decides what to issue: a
// mailed invitation needs an email; without one nothing is issued.
func inviteToIssue(want InviteMode, email string) InviteMode {
	if want == InviteByMail && email == "" {
		return NoInvite
	}
	return want
}

// issueNewUserInvite issues what startNewUser decided, in the creating
// transaction. It returns the token only when the caller hands out the link;
// a mailed token goes to the outbox only.
func (s *Service) issueNewUserInvite(ctx context.Context, tx Tx, a Actor, u *User, issue InviteMode, language string) (string, error) {
	if issue == NoInvite {
		return "", nil
	}
	token, err := s.issueInvite(ctx, tx, a, u)
	if err != nil {
		return "", err
	}
	if issue == InviteByMail {
		if language, err = availableLanguage(ctx, tx, u.OrgID, MailInvite, "mail_language", language); err != nil {
			return "", err
		}
		if err := s.queueInviteMail(ctx, tx, u, token, language); err != nil {
			return "", err
		}
		return "", nil
	}
	return token, nil
}
