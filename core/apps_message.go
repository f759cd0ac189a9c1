package core

import (
	"context"
	"fmt"
)

// AppUser is a user with access to an app: assigned directly (ViaGroup
// empty) or through a group (one of them, by name, when several).
type AppUser struct {
	UserID   string `db:"user_id"`
	ViaGroup string `db:"via_group"`
}

// MessageRecipient is a user an app message was queued for.
type MessageRecipient struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	MailID   string `json:"mail_id"`
	Via      string `json:"via"` // "direct", or "group:NAME"
}

// AppMessageResult is the outcome per user of an app message: who gets a
// mail (and through which assignment) and who is skipped, and why.
type AppMessageResult struct {
	Queued     int                `json:"queued"`
	Recipients []MessageRecipient `json:"recipients"`
	Skipped    []SkippedMember    `json:"skipped"`
}

// MessageApp queues one mail to every user of an app (assigned directly or
// through a group, each once) who has an email address and is not disabled
// or archived, in one transaction. The same people message apps as groups:
// owners, admins and user managers.
func (s *Service) MessageApp(ctx context.Context, a Actor, orgID, appID string, m GroupMessage) (*AppMessageResult, error) {
	if err := authorizeMessage(a, "the users of apps"); err != nil {
		return nil, err
	}
	if err := checkMessage(&m); err != nil {
		return nil, err
	}
	out := &AppMessageResult{Recipients: []MessageRecipient{}, Skipped: []SkippedMember{}}
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := tx.AppByID(ctx, orgID, appID)
		if err != nil {
			return err
		}
		if m.Language, err = availableLanguage(ctx, tx, orgID, MailAppMessage, "language", m.Language); err != nil {
			return err
		}
		users, err := tx.AppUsers(ctx, app.ID)
		if err != nil {
			return err
		}
		queued, skipped, err := s.queueMessages(ctx, tx, a, orgID, m, OutboxMail{Kind: MailAppMessage, RefID: app.ID, AppName: app.Name}, users)
		if err != nil {
			return err
		}
		out.Recipients = append(out.Recipients, queued...)
		out.Skipped = append(out.Skipped, skipped...)
		out.Queued = len(queued)
		return s.record(ctx, tx, a, orgID, "app.message", "app", app.ID, nil,
			map[string]any{"subject": m.Subject, "body_bytes": len(m.Body), "queued": out.Queued, "skipped": len(out.Skipped)})
	})
	if err != nil {
		return nil, fmt.Errorf("message the users of app %s: %w", appID, err)
	}
	return out, nil
}
