package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// PrefixReset marks password-reset tokens.
const PrefixReset = "rrst_"

// PasswordResetValidFor is how long a password-reset link works.
const PasswordResetValidFor = time.Hour

var resetTokenRE = regexp.MustCompile(`^` + PrefixReset + `[A-Za-z0-9_-]{43}$`)

// ValidResetToken reports whether token has the shape of a reset token.
func ValidResetToken(token string) bool { return resetTokenRE.MatchString(token) }

// resetEligible says why u cannot reset a password by mail ("" when it can).
func resetEligible(u *User) string {
	switch {
	case u.IsDirectory():
		return "directory users change their password in their directory (" + u.Source + ")"
	case u.Email == "":
		return "the user has no email address"
	case u.Status != StatusActive:
		return "the user is " + string(u.Status) + "; only active users can reset their password"
	}
	return ""
}

// issuePasswordReset voids the user's earlier reset links and their queued
// mails, and queues a mail with a new link, in the caller's transaction.
func (s *Service) issuePasswordReset(ctx context.Context, tx Tx, a Actor, u *User, language string) error {
	token, err := NewSecret(PrefixReset)
	if err != nil {
		return err
	}
	now := s.now()
	if err := tx.VoidPasswordResets(ctx, u.ID, now); err != nil {
		return err
	}
	if err := tx.CancelUserMail(ctx, u.ID, MailPasswordReset, now); err != nil {
		return err
	}
	r := &PasswordReset{ID: newID(), OrgID: u.OrgID, UserID: u.ID, TokenHash: HashSecret(token), CreatedAt: now, ExpiresAt: now.Add(PasswordResetValidFor)}
	if err := tx.InsertPasswordReset(ctx, r); err != nil {
		return err
	}
	// A language asked for that the organisation cannot mail in (a
	// self-service request, checked only for its form) is the user's own.
	if c, err := CanonicalLanguage(language); err == nil {
		language = c
	}
	if ok, err := hasTemplate(ctx, tx, u.OrgID, MailPasswordReset, language); err != nil {
		return err
	} else if !ok {
		if language, err = s.pickMailLanguage(ctx, tx, u.OrgID, MailPasswordReset, u.Language); err != nil {
			return err
		}
	}
	if err := tx.InsertMail(ctx, &OutboxMail{ID: newID(), OrgID: u.OrgID, UserID: u.ID, RefID: r.ID, Kind: MailPasswordReset,
		Language: language, To: u.Email, Token: token, State: MailQueued, NextAttemptAt: now, CreatedAt: now}); err != nil {
		return err
	}
	return s.record(ctx, tx, a, u.OrgID, "user.password_reset_requested", "user", u.ID, nil, map[string]any{"expires_at": r.ExpiresAt})
}

// RequestPasswordReset is the self-service "forgot password": login is a
// username or email address of the organisation. It answers the same way,
// after the same work, whether or not such a user exists and may reset (no
// account probing, by answer or by time): it only queues the request, one
// insert whatever the login. The mail worker resolves queued requests
// (ProcessPasswordResetRequests, run before each claim of mail): an
// eligible user gets a mail, nobody else does.
func (s *Service) RequestPasswordReset(ctx context.Context, orgID, login, language string) error {
	login = strings.TrimSpace(login)
	var p problems
	if login == "" || len(login) > MaxEmailLen {
		p.add("login", "a username or email address is required")
	}
	if language != "" {
		checkMailLanguage(&p, "language", language)
	}
	if err := p.err(); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		return tx.InsertResetRequest(ctx, &ResetRequest{ID: newID(), OrgID: orgID, Login: login, Language: language, CreatedAt: s.now()})
	})
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	return nil
}

// resetRequestBatch bounds the requests one transaction resolves.
const resetRequestBatch = 100

// ProcessPasswordResetRequests resolves queued self-service reset requests
// (see RequestPasswordReset) and returns how many it took. The mail worker
// runs it before each claim; tests and tools may call it directly.
func (s *Service) ProcessPasswordResetRequests(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := s.store.InTx(ctx, func(tx Tx) error {
			var err error
			n, err = s.resolveResetRequests(ctx, tx)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("password reset requests: %w", err)
		}
		total += n
		if n < resetRequestBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// resolveResetRequests takes up to a batch of queued requests in the
// caller's transaction and issues a reset to each eligible user.
func (s *Service) resolveResetRequests(ctx context.Context, tx Tx) (int, error) {
	reqs, err := tx.TakeResetRequests(ctx, resetRequestBatch)
	if err != nil {
		return 0, err
	}
	for _, r := range reqs {
		if s.now().Sub(r.CreatedAt) > PasswordResetValidFor {
			continue // nobody waits for it any more
		}
		u, err := tx.UserByUsername(ctx, r.OrgID, r.Login)
		if errors.Is(err, ErrNotFound) {
			u, err = tx.UserByEmail(ctx, r.OrgID, r.Login)
		}
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return 0, err
		}
		if resetEligible(u) != "" {
			continue
		}
		if ok, err := s.passwordUsable(ctx, tx, u); err != nil {
			return 0, err
		} else if !ok {
			continue // password sign-in is off for them: a password would open nothing
		}
		if err := s.issuePasswordReset(ctx, tx, Actor{Kind: ActorSelf, ID: u.ID, Name: u.Username}, u, r.Language); err != nil {
			return 0, err
		}
	}
	return len(reqs), nil
}

// SendPasswordReset mails a user a password-reset link on an admin's behalf.
func (s *Service) SendPasswordReset(ctx context.Context, a Actor, orgID, id, language string) error {
	if language != "" {
		var p problems
		checkMailLanguage(&p, "language", language)
		if err := p.err(); err != nil {
			return err
		}
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := manageable(ctx, tx, a, orgID, id, false)
		if err != nil {
			return err
		}
		if why := resetEligible(u); why != "" {
			return &TransitionError{Action: "send a password reset to", From: u.Status, Reason: why}
		}
		if language, err = availableLanguage(ctx, tx, orgID, MailPasswordReset, "language", language); err != nil {
			return err
		}
		return s.issuePasswordReset(ctx, tx, a, u, language)
	})
	if err != nil {
		return fmt.Errorf("send password reset to user %s: %w", id, err)
	}
	return nil
}

// ResetInfo is what the reset page shows before the password is set.
type ResetInfo struct {
	FirstName string
	Username  string
	ExpiresAt time.Time
	Language  string         // the language the link was mailed in
	Policy    PasswordPolicy // the organisation's, for the page to state
}

// checkReset finds a usable reset link and its user.
func (s *Service) checkReset(ctx context.Context, tx Tx, token string) (*PasswordReset, *User, error) {
	if !ValidResetToken(token) {
		return nil, nil, invalid("token", "the password reset link is malformed; copy the whole link from the mail")
	}
	r, err := tx.PasswordResetByTokenHash(ctx, HashSecret(token))
	if errors.Is(err, ErrNotFound) {
		return nil, nil, invalid("token", "the password reset link is not valid")
	} else if err != nil {
		return nil, nil, err
	}
	switch {
	case r.UsedAt != nil:
		return nil, nil, invalid("token", "the password reset link was already used")
	case r.VoidedAt != nil:
		return nil, nil, invalid("token", "the password reset link was replaced by a newer one")
	case s.now().After(r.ExpiresAt):
		return nil, nil, invalid("token", "the password reset link has expired; ask for a new one")
	}
	u, err := tx.UserByID(ctx, r.OrgID, r.UserID)
	if err != nil {
		return nil, nil, err
	}
	if why := resetEligible(u); why != "" {
		return nil, nil, invalid("token", "%s", why)
	}
	return r, u, nil
}

// LookupPasswordReset checks a reset token without using it.
func (s *Service) LookupPasswordReset(ctx context.Context, token string) (*ResetInfo, error) {
	var out *ResetInfo
	err := s.store.View(ctx, func(tx Tx) error {
		r, u, err := s.checkReset(ctx, tx, token)
		if err != nil {
			return err
		}
		lang, err := mailLanguageOf(ctx, tx, u, r.ID)
		if err != nil {
			return err
		}
		policy, err := policyOf(ctx, tx, u.OrgID)
		if err != nil {
			return err
		}
		out = &ResetInfo{FirstName: u.FirstName, Username: u.Username, ExpiresAt: r.ExpiresAt, Language: lang, Policy: policy}
		return nil
	})
	return out, err
}

// ResetPassword consumes a single-use reset token and sets the password.
// Every session of the user ends.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (*UserView, error) {
	var out *UserView
	err := s.store.InTx(ctx, func(tx Tx) error {
		r, u, err := s.checkReset(ctx, tx, token)
		if err != nil {
			return err
		}
		if err := s.setPassword(ctx, u, password); err != nil {
			return err
		}
		now := s.now()
		u.MustChangePassword = false
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.MarkPasswordResetUsed(ctx, r.ID, now); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(ctx, u.ID, ""); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if err := s.record(ctx, tx, Actor{Kind: ActorSelf, ID: u.ID, Name: u.Username}, u.OrgID, "user.password_reset", "user", u.ID,
			nil, map[string]any{"password": "[redacted]"}); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	return out, nil
}

// PasswordResetRepo stores password-reset links.
type PasswordResetRepo interface {
	InsertPasswordReset(ctx context.Context, r *PasswordReset) error
	PasswordResetByTokenHash(ctx context.Context, hash string) (*PasswordReset, error)
	VoidPasswordResets(ctx context.Context, userID string, at time.Time) error
	MarkPasswordResetUsed(ctx context.Context, id string, at time.Time) error
	// InsertResetRequest queues a self-service reset request as it arrived.
	InsertResetRequest(ctx context.Context, r *ResetRequest) error
	// TakeResetRequests removes and returns up to limit queued requests, oldest first.
	TakeResetRequests(ctx context.Context, limit int) ([]ResetRequest, error)
}

// ResetRequest is a self-service "forgot password" request, queued before
// anything is known of the login: it is resolved later, off the request path.
type ResetRequest struct {
	ID        string    `db:"id"`
	OrgID     string    `db:"org_id"`
	Login     string    `db:"login"`
	Language  string    `db:"language"`
	CreatedAt time.Time `db:"created_at"`
}
