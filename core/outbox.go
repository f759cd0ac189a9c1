package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MailKind is what a queued mail is about.
type MailKind string

// Mail kinds.
const (
	MailInvite        MailKind = "invite"         // an invitation with a single-use link
	MailPasswordReset MailKind = "password_reset" // a single-use link to choose a new password
	MailGroupMessage  MailKind = "group_message"  // an admin's message to the members of a group
	MailAppMessage    MailKind = "app_message"    // an admin's message to the users of an app
)

// MailKinds lists the kinds of mail that have templates.
var MailKinds = []MailKind{MailInvite, MailPasswordReset, MailGroupMessage, MailAppMessage}

// Valid reports whether k is a known mail kind.
func (k MailKind) Valid() bool {
	for _, v := range MailKinds {
		if k == v {
			return true
		}
	}
	return false
}

// MailState is where an outbox row is in its delivery.
type MailState string

// Outbox row states. queued → sending → sent | failed; queued → cancelled
// when a newer invitation replaces the one it carries.
const (
	MailQueued    MailState = "queued"
	MailSending   MailState = "sending"
	MailSent      MailState = "sent"
	MailFailed    MailState = "failed"
	MailCancelled MailState = "cancelled"
)

// OutboxMail is one mail to deliver. Token is the raw invitation token, kept
// only while the row can still be delivered: the store blanks it when the row
// is finished (sent, failed) or cancelled.
type OutboxMail struct {
	ID            string     `json:"id" db:"id"`
	OrgID         string     `json:"org_id" db:"org_id"`
	UserID        string     `json:"user_id" db:"user_id"`
	RefID         string     `json:"ref_id,omitempty" db:"ref_id"` // the invite, password reset, group or app it is about
	Kind          MailKind   `json:"kind" db:"kind"`
	Language      string     `json:"language" db:"language"`
	To            string     `json:"to" db:"to_addr"`
	Token         string     `json:"-" db:"token"`
	Subject       string     `json:"subject,omitempty" db:"subject"` // group_message: the sender's subject
	Body          string     `json:"-" db:"body"`                    // group_message: the sender's text
	Sender        string     `json:"sender,omitempty" db:"sender"`   // group_message: the sender's name
	GroupName     string     `json:"group_name,omitempty" db:"group_name"`
	AppName       string     `json:"app_name,omitempty" db:"app_name"`
	State         MailState  `json:"state" db:"state"`
	Attempts      int        `json:"attempts" db:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at" db:"next_attempt_at"`
	ClaimedUntil  *time.Time `json:"-" db:"claimed_until"`
	ClaimedBy     string     `json:"-" db:"claimed_by"` // the lease owner of the process sending it
	LastError     string     `json:"last_error,omitempty" db:"last_error"`
	CreatedAt     time.Time  `json:"created_at" db:"created_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty" db:"finished_at"`
}

// MailTemplate is an organisation's override of one kind of mail in one
// language. An empty part falls back to the embedded default.
type MailTemplate struct {
	OrgID     string    `json:"org_id" db:"org_id"`
	Kind      MailKind  `json:"kind" db:"kind"`
	Language  string    `json:"language" db:"language"`
	Subject   string    `json:"subject" db:"subject"`
	HTML      string    `json:"html" db:"html_body"`
	Text      string    `json:"text" db:"text_body"`
	UpdatedAt time.Time `json:"updated_at" db:"updated_at"`
}

// MailStats counts outbox rows by state.
type MailStats struct {
	Queued    int64 `json:"queued"`
	Sending   int64 `json:"sending"`
	Sent      int64 `json:"sent"`
	Failed    int64 `json:"failed"`
	Cancelled int64 `json:"cancelled"`
}

// PasswordReset is one password-reset link. Only the SHA-256 of its token is stored.
type PasswordReset struct {
	ID        string     `db:"id"`
	OrgID     string     `db:"org_id"`
	UserID    string     `db:"user_id"`
	TokenHash string     `db:"token_hash"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
	VoidedAt  *time.Time `db:"voided_at"`
}

// OutboxRepo is the transactional outbox of mail.
type OutboxRepo interface {
	InsertMail(ctx context.Context, m *OutboxMail) error
	// CancelUserMail cancels the user's queued mails of a kind (blanking their tokens).
	CancelUserMail(ctx context.Context, userID string, kind MailKind, at time.Time) error
	// ClaimMail marks up to limit due rows as sending until now+lease and
	// counts an attempt: queued rows whose next attempt is due, and sending
	// rows whose lease ran out (their worker died). Oldest first. The rows
	// record owner as the process that claimed them.
	ClaimMail(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]OutboxMail, error)
	// MailClaimOwners lists the owners of the claims still in force.
	MailClaimOwners(ctx context.Context, now time.Time) ([]string, error)
	// ExpireMailClaims ends owner's claims now (their rows are due again),
	// and counts them.
	ExpireMailClaims(ctx context.Context, owner string, now time.Time) (int64, error)
	MailByID(ctx context.Context, id string) (*OutboxMail, error)
	// FinishMail moves a row to sent or failed and blanks its token.
	FinishMail(ctx context.Context, id string, state MailState, at time.Time, lastError string) error
	// RetryMail puts a sending row back in the queue for a later attempt.
	RetryMail(ctx context.Context, id string, next time.Time, lastError string) error
	ListUserMail(ctx context.Context, orgID, userID string) ([]OutboxMail, error)
	MailStats(ctx context.Context) (MailStats, error)
}

// ClaimedMail is an outbox row claimed for delivery, with what rendering it
// needs. Override is nil when the organisation has no template of its own.
type ClaimedMail struct {
	Mail     OutboxMail
	User     *User
	Org      *Org
	Override *MailTemplate
}

// mailActor is the history actor of the mail worker.
var mailActor = SystemActor("mail")

// ClaimMail claims up to limit due mails for delivery until now+lease. An
// invitation mail whose invite was meanwhile used or replaced is cancelled
// instead of returned.
func (s *Service) ClaimMail(ctx context.Context, lease time.Duration, limit int) ([]ClaimedMail, error) {
	var out []ClaimedMail
	err := s.store.InTx(ctx, func(tx Tx) error {
		// Queued self-service reset requests become mail first (see RequestPasswordReset).
		if _, err := s.resolveResetRequests(ctx, tx); err != nil {
			return err
		}
		now := s.now()
		if err := s.takeOverDeadClaims(ctx, tx, now); err != nil {
			return err
		}
		ms, err := tx.ClaimMail(ctx, now, s.owner, lease, limit)
		if err != nil {
			return err
		}
		for _, m := range ms {
			why, err := staleMail(ctx, tx, &m, now)
			if err != nil {
				return err
			}
			if why != "" {
				if err := tx.FinishMail(ctx, m.ID, MailCancelled, now, why); err != nil {
					return err
				}
				continue
			}
			c := ClaimedMail{Mail: m}
			if c.User, err = tx.UserByID(ctx, m.OrgID, m.UserID); err != nil {
				return err
			}
			if c.Org, err = tx.OrgByID(ctx, m.OrgID); err != nil {
				return err
			}
			c.Override, err = tx.MailTemplateOverride(ctx, m.OrgID, m.Kind, m.Language)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	return out, nil
}

// takeOverDeadClaims ends at once the claims of a process of this host
// that is gone (Deps.LeaseOwnerGone): its mails are due again instead of
// waiting out their lease. A live owner, another host's or one whose pid is
// unknown keeps its claims until they expire. Delivery stays at least once:
// the dead process may have sent a mail before it died.
func (s *Service) takeOverDeadClaims(ctx context.Context, tx Tx, now time.Time) error {
	if s.ownerGone == nil {
		return nil
	}
	owners, err := tx.MailClaimOwners(ctx, now)
	if err != nil {
		return err
	}
	for _, o := range owners {
		if o == s.owner || !s.ownerGone(o) {
			continue
		}
		n, err := tx.ExpireMailClaims(ctx, o, now)
		if err != nil {
			return err
		}
		if n > 0 {
			s.log.Warn("taking over the mail claims of a process that is gone", "owner", o, "mails", n)
		}
	}
	return nil
}

// staleMail says why a claimed mail should no longer be sent ("" when it
// should): its link was used, replaced or has expired meanwhile.
func staleMail(ctx context.Context, tx Tx, m *OutboxMail, now time.Time) (string, error) {
	switch m.Kind {
	case MailInvite:
		inv, err := tx.InviteByTokenHash(ctx, HashSecret(m.Token))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if inv == nil || inv.UsedAt != nil || inv.VoidedAt != nil {
			return "the invitation was used or replaced before it was mailed", nil
		}
	case MailPasswordReset:
		r, err := tx.PasswordResetByTokenHash(ctx, HashSecret(m.Token))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if r == nil || r.UsedAt != nil || r.VoidedAt != nil || now.After(r.ExpiresAt) {
			return "the password reset link was used, replaced or expired before it was mailed", nil
		}
	}
	return "", nil
}

// MailSent records a delivered mail: the row is finished and its token blanked.
func (s *Service) MailSent(ctx context.Context, id string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		m, err := tx.MailByID(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.FinishMail(ctx, id, MailSent, s.now(), ""); err != nil {
			return err
		}
		return s.record(ctx, tx, mailActor, m.OrgID, string(m.Kind)+".mail_sent", "user", m.UserID, nil,
			map[string]any{"mail_id": m.ID, "to": m.To, "language": m.Language, "attempts": m.Attempts})
	})
	if err != nil {
		return fmt.Errorf("record mail %s sent: %w", id, err)
	}
	return nil
}

// MailRetryLater puts a mail whose attempt failed transiently back in the
// queue until next.
func (s *Service) MailRetryLater(ctx context.Context, id string, next time.Time, reason string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		return tx.RetryMail(ctx, id, next.UTC().Truncate(time.Microsecond), truncateReason(reason))
	})
	if err != nil {
		return fmt.Errorf("defer mail %s: %w", id, err)
	}
	return nil
}

// MailFailed records a mail that cannot be delivered (a permanent refusal, an
// invalid address, or retries exhausted). For an invitation that is still
// the user's current one, the user's invite status becomes mail_error with
// the reason, and history records it.
func (s *Service) MailFailed(ctx context.Context, id, reason string) error {
	reason = truncateReason(reason)
	err := s.store.InTx(ctx, func(tx Tx) error {
		m, err := tx.MailByID(ctx, id)
		if err != nil {
			return err
		}
		current := false
		if m.Kind == MailInvite && m.Token != "" {
			inv, err := tx.InviteByTokenHash(ctx, HashSecret(m.Token))
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			current = inv != nil && inv.UsedAt == nil && inv.VoidedAt == nil
		}
		now := s.now()
		if err := tx.FinishMail(ctx, id, MailFailed, now, reason); err != nil {
			return err
		}
		if !current {
			return s.record(ctx, tx, mailActor, m.OrgID, string(m.Kind)+".mail_failed", "user", m.UserID, nil,
				map[string]any{"mail_id": m.ID, "to": m.To, "reason": reason})
		}
		u, err := tx.UserByID(ctx, m.OrgID, m.UserID)
		if err != nil {
			return err
		}
		before := map[string]any{"invite_state": u.InviteState}
		if u.InviteState == InviteStateSent {
			u.InviteState = InviteStateMailError
			u.InviteMailError = reason
			u.UpdatedAt = now
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, mailActor, m.OrgID, "invite.mail_error", "user", m.UserID, before,
			map[string]any{"invite_state": u.InviteState, "mail_id": m.ID, "to": m.To, "reason": reason})
	})
	if err != nil {
		return fmt.Errorf("record mail %s failed: %w", id, err)
	}
	return nil
}

func truncateReason(r string) string {
	const max = 500
	if len(r) > max {
		return r[:max]
	}
	return r
}

// MailStats counts the outbox by state (queue depth = Queued + Sending).
func (s *Service) MailStats(ctx context.Context) (MailStats, error) {
	return read(ctx, s.store, func(tx Tx) (MailStats, error) { return tx.MailStats(ctx) })
}

// UserStatusCounts counts users by status across organisations, for the
// daemon's metrics.
func (s *Service) UserStatusCounts(ctx context.Context) (map[Status]int64, error) {
	return read(ctx, s.store, func(tx Tx) (map[Status]int64, error) { return tx.UserStatusCounts(ctx) })
}

// UserMail lists the mails queued for a user, oldest first, for admins
// (delivery state, attempts, last error). Tokens are never included.
func (s *Service) UserMail(ctx context.Context, orgID, userID string) ([]OutboxMail, error) {
	var out []OutboxMail
	err := s.store.View(ctx, func(tx Tx) error {
		if _, err := tx.UserByID(ctx, orgID, userID); err != nil {
			return err
		}
		var err error
		out, err = tx.ListUserMail(ctx, orgID, userID)
		return err
	})
	for i := range out {
		out[i].Token = ""
	}
	return out, err
}
