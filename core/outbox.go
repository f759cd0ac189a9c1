package core

import (
	"context"
	"time"
)

// MailKind is what a queued mail is about.
type MailKind string

// Mail kinds.
const (
	MailInvite        MailKind = "invite"         // an invitation with a single-use link
	MailPasswordReset MailKind = "password_reset" // a single-use link to choose a new password
	MailGroupMessage  MailKind = "group_message"  // an admin's message to the members of a group
)

// MailKinds lists the kinds of mail that have templates.
var MailKinds = []MailKind{MailInvite, MailPasswordReset, MailGroupMessage}

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
	RefID         string     `json:"ref_id,omitempty" db:"ref_id"` // the invite, password reset or group it is about
	Kind          MailKind   `json:"kind" db:"kind"`
	Language      string     `json:"language" db:"language"`
	To            string     `json:"to" db:"to_addr"`
	Token         string     `json:"-" db:"token"`
	Subject       string     `json:"subject,omitempty" db:"subject"` // group_message: the sender's subject
	Body          string     `json:"-" db:"body"`                    // group_message: the sender's text
	Sender        string     `json:"sender,omitempty" db:"sender"`   // group_message: the sender's name
	GroupName     string     `json:"group_name,omitempty" db:"group_name"`
	State         MailState  `json:"state" db:"state"`
	Attempts      int        `json:"attempts" db:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at" db:"next_attempt_at"`
	ClaimedUntil  *time.Time `json:"-" db:"claimed_until"`
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
	// rows whose lease ran out (their worker died). Oldest first.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMail, error)
	MailByID(ctx context.Context, id string) (*OutboxMail, error)
	// FinishMail moves a row to sent or failed and blanks its token.
	FinishMail(ctx context.Context, id string, state MailState, at time.Time, lastError string) error
	// RetryMail puts a sending row back in the queue for a later attempt.
	RetryMail(ctx context.Context, id string, next time.Time, lastError string) error
	ListUserMail(ctx context.Context, orgID, userID string) ([]OutboxMail, error)
	MailStats(ctx context.Context) (MailStats, error)
}
