package core

import (
	"context"
	"encoding/json"
	"fmt"
)

// record writes a history entry in the caller's transaction.
func (s *Service) record(ctx context.Context, tx Tx, a Actor, orgID, action, targetType, targetID string, before, after any) error {
	reqID := a.RequestID
	if reqID == "" {
		reqID = RequestIDFrom(ctx)
	}
	h := &HistoryEntry{
		OrgID: orgID, At: s.now(), ActorKind: a.Kind, ActorID: a.ID, ActorName: a.Name,
		Action: action, TargetType: targetType, TargetID: targetID, RequestID: reqID,
		Before: snapshotJSON(before), After: snapshotJSON(after),
		TokenID: a.TokenID, TokenCreatedBy: a.TokenCreatedBy,
	}
	if err := tx.InsertHistory(ctx, h); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// userSnapshot is what history keeps of a user: no password hash, no counters.
type userSnapshot struct {
	Username      string            `json:"username"`
	Email         string            `json:"email,omitempty"`
	FirstName     string            `json:"first_name,omitempty"`
	LastName      string            `json:"last_name,omitempty"`
	Phone         string            `json:"phone,omitempty"`
	Language      string            `json:"language,omitempty"`
	Role          Role              `json:"role"`
	CanCreateApps bool              `json:"can_create_apps"`
	Status        Status            `json:"status"`
	Source        string            `json:"source"`
	ExternalID    string            `json:"external_id,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	PasswordSet   bool              `json:"password_set,omitempty"`
}

func snapshotOf(u *User) *userSnapshot {
	if u == nil {
		return nil
	}
	return &userSnapshot{
		Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Phone: u.Phone, Language: u.Language, Role: u.Role, CanCreateApps: u.CanCreateApps,
		Status: u.Status, Source: u.Source, ExternalID: u.ExternalID, Metadata: u.Metadata,
		PasswordSet: u.PasswordHash != "",
	}
}

func snapshotJSON(v any) string {
	if v == nil {
		return ""
	}
	if u, ok := v.(*User); ok {
		if u == nil {
			return ""
		}
		v = snapshotOf(u)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// History returns the history entries about one target, oldest first.
func (s *Service) History(ctx context.Context, orgID, targetID string) ([]HistoryEntry, error) {
	return read(ctx, s.store, func(tx Tx) ([]HistoryEntry, error) { return tx.ListHistory(ctx, orgID, targetID) })
}

// HistoryRepo stores the history of changes.
type HistoryRepo interface {
	InsertHistory(ctx context.Context, h *HistoryEntry) error
	InsertHistoryBatch(ctx context.Context, hs []HistoryEntry) error
	ListHistory(ctx context.Context, orgID, targetID string) ([]HistoryEntry, error)
}
