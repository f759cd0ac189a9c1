package core

import (
	"context"
	"fmt"
	"strings"
)

// GroupMessage is a mail an admin or user manager sends to every member of
// a group (a notification), through the outbox.
type GroupMessage struct {
	Subject  string
	Body     string // plain text; line breaks are kept
	Language string // the frame's language for everyone; each member's own when empty
}

// Limits of a group message.
const (
	MaxMessageSubject = 200
	MaxMessageBody    = 20000
)

// SkippedMember is a group member who gets no mail, and why.
type SkippedMember struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	Reason   string `json:"reason"`
}

// GroupMessageResult says how many mails were queued and who was skipped.
type GroupMessageResult struct {
	Queued  int             `json:"queued"`
	Skipped []SkippedMember `json:"skipped"`
}

// authorizeMessage: owners, admins and user managers message groups and
// the users of apps (what: "groups", "the users of apps").
func authorizeMessage(a Actor, what string) error {
	switch a.Kind {
	case ActorAdmin:
		if catalog(a) {
			return errCatalogSession
		}
		if a.Role.IsAdmin() || a.Role == RoleUserManager {
			return nil
		}
		return &ForbiddenError{Reason: "only owners, admins and user managers message " + what}
	case ActorCLI, ActorSystem:
		return nil
	}
	return &ForbiddenError{Reason: "only people and operators message " + what}
}

// checkMessage checks (and trims) a message's subject, body and language.
func checkMessage(m *GroupMessage) error {
	m.Subject = strings.TrimSpace(m.Subject)
	var p problems
	switch {
	case m.Subject == "":
		p.add("subject", "is required")
	case len(m.Subject) > MaxMessageSubject:
		p.add("subject", "is longer than %d bytes", MaxMessageSubject)
	case strings.ContainsAny(m.Subject, "\r\n"):
		p.add("subject", "must be one line")
	}
	if strings.TrimSpace(m.Body) == "" {
		p.add("body", "is required")
	} else if len(m.Body) > MaxMessageBody {
		p.add("body", "is longer than %d bytes", MaxMessageBody)
	}
	if m.Language != "" {
		checkMailLanguage(&p, "language", m.Language)
	}
	if err := p.err(); err != nil {
		return err
	}
	return nil
}

// MessageGroup queues one mail per member of a group who has an email
// address and is not disabled or archived, all in one transaction.
func (s *Service) MessageGroup(ctx context.Context, a Actor, orgID, groupID string, m GroupMessage) (*GroupMessageResult, error) {
	if err := authorizeMessage(a, "groups"); err != nil {
		return nil, err
	}
	if err := checkMessage(&m); err != nil {
		return nil, err
	}
	out := &GroupMessageResult{Skipped: []SkippedMember{}}
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := tx.GroupByID(ctx, orgID, groupID)
		if err != nil {
			return err
		}
		if m.Language, err = availableLanguage(ctx, tx, orgID, MailGroupMessage, "language", m.Language); err != nil {
			return err
		}
		ids, err := tx.GroupMemberIDs(ctx, g.ID)
		if err != nil {
			return err
		}
		to := make([]AppUser, len(ids))
		for i, id := range ids {
			to[i] = AppUser{UserID: id}
		}
		queued, skipped, err := s.queueMessages(ctx, tx, a, orgID, m, OutboxMail{Kind: MailGroupMessage, RefID: g.ID, GroupName: g.Name}, to)
		if err != nil {
			return err
		}
		out.Queued, out.Skipped = len(queued), append(out.Skipped, skipped...)
		return s.record(ctx, tx, a, orgID, "group.message", "group", g.ID, nil,
			map[string]any{"subject": m.Subject, "body_bytes": len(m.Body), "queued": out.Queued, "skipped": len(out.Skipped)})
	})
	if err != nil {
		return nil, fmt.Errorf("message group %s: %w", groupID, err)
	}
	return out, nil
}

// queueMessages queues the message m to each user of to, as a mail like
// proto (kind, reference, group or app name), in to's order; users without an
// email, disabled or archived are skipped with the reason. The same rules for
// group and app messages.
func (s *Service) queueMessages(ctx context.Context, tx Tx, a Actor, orgID string, m GroupMessage, proto OutboxMail, to []AppUser) ([]MessageRecipient, []SkippedMember, error) {
	ids := make([]string, len(to))
	for i, t := range to {
		ids[i] = t.UserID
	}
	us, err := tx.UsersByIDs(ctx, orgID, ids)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]*User, len(us))
	for i := range us {
		byID[us[i].ID] = &us[i]
	}
	sender := a.Name
	if sender == "" {
		sender = string(a.Kind)
	}
	now := s.now()
	var queued []MessageRecipient
	var skipped []SkippedMember
	for _, t := range to {
		u, ok := byID[t.UserID]
		if !ok {
			return nil, nil, &NotFoundError{Kind: "user", Key: t.UserID}
		}
		if skip := messageSkip(u); skip != "" {
			skipped = append(skipped, SkippedMember{UserID: u.ID, Username: u.Username, Reason: skip})
			continue
		}
		lang, err := s.messageLanguage(ctx, tx, orgID, proto.Kind, m.Language, u)
		if err != nil {
			return nil, nil, err
		}
		mail := proto
		mail.ID, mail.OrgID, mail.UserID, mail.Language, mail.To = newID(), orgID, u.ID, lang, u.Email
		mail.Subject, mail.Body, mail.Sender = m.Subject, m.Body, sender
		mail.State, mail.NextAttemptAt, mail.CreatedAt = MailQueued, now, now
		if err := tx.InsertMail(ctx, &mail); err != nil {
			return nil, nil, err
		}
		via := "direct"
		if t.ViaGroup != "" {
			via = "group:" + t.ViaGroup
		}
		queued = append(queued, MessageRecipient{UserID: u.ID, Username: u.Username, MailID: mail.ID, Via: via})
	}
	return queued, skipped, nil
}

// messageSkip says why a message to its users does not go to u ("" when it does).
func messageSkip(u *User) string {
	switch {
	case u.Email == "":
		return "no email address"
	case u.Status == StatusDisabled || u.Status == StatusArchived:
		return "user is " + string(u.Status)
	}
	return ""
}

// messageLanguage is the language of a message to u: the one asked for, else
// the one the organisation mails u in.
func (s *Service) messageLanguage(ctx context.Context, tx Tx, orgID string, kind MailKind, asked string, u *User) (string, error) {
	if asked != "" {
		return asked, nil
	}
	return s.pickMailLanguage(ctx, tx, orgID, kind, u.Language)
}
