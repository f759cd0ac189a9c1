package core

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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
	DisplayName   string            `json:"display_name,omitempty"`
	ManagerID     string            `json:"manager_id,omitempty"`
	Attributes    Attributes        `json:"attributes,omitempty"`
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
		DisplayName: u.DisplayName, ManagerID: u.ManagerID, Attributes: u.Attributes,
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

// History returns the history entries about one target, oldest first. An
// entry about a user lists the attributes it changed by name.
func (s *Service) History(ctx context.Context, orgID, targetID string) ([]HistoryEntry, error) {
	hs, err := read(ctx, s.store, func(tx Tx) ([]HistoryEntry, error) { return tx.ListHistory(ctx, orgID, targetID) })
	for i := range hs {
		if hs[i].TargetType == "user" {
			hs[i].Changes = SnapshotChanges(hs[i].Before, hs[i].After)
		}
	}
	return hs, err
}

// AttrChange is one attribute a history entry changed: its API name (custom
// fields as metadata.<name>) and its value before and after, as text.
type AttrChange struct {
	Attribute string `json:"attribute"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// String reads `title: "Engineer" → "Lead"`.
func (c AttrChange) String() string { return fmt.Sprintf("%s: %q → %q", c.Attribute, c.From, c.To) }

// SnapshotChanges lists the attributes that differ between two user
// snapshots of history (JSON; "" for none), in schema order, then custom fields.
func SnapshotChanges(before, after string) []AttrChange {
	b, a := flatSnapshot(before), flatSnapshot(after)
	var out []AttrChange
	seen := map[string]bool{}
	order := make([]string, 0, len(UserSchema)+len(b)+len(a))
	for _, def := range UserSchema {
		order = append(order, def.Name)
	}
	order = append(order, "password_set")
	for _, m := range []map[string]string{b, a} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			order = append(order, k)
		}
	}
	for _, k := range order {
		if seen[k] {
			continue
		}
		seen[k] = true
		if b[k] != a[k] {
			out = append(out, AttrChange{Attribute: k, From: b[k], To: a[k]})
		}
	}
	return out
}

// flatSnapshot is a user snapshot as attribute name → text.
func flatSnapshot(js string) map[string]string {
	out := map[string]string{}
	if js == "" {
		return out
	}
	var s userSnapshot
	if json.Unmarshal([]byte(js), &s) != nil {
		return out
	}
	for k, v := range map[string]string{
		AttrNameUsername: s.Username, AttrNameEmail: s.Email, AttrNameFirstName: s.FirstName, AttrNameLastName: s.LastName,
		AttrNamePhone: s.Phone, AttrNameLanguage: s.Language, "role": string(s.Role), "status": string(s.Status),
		"source": s.Source, AttrNameExternalID: s.ExternalID, AttrNameDisplayName: s.DisplayName, AttrNameManager: s.ManagerID,
	} {
		if v != "" {
			out[k] = v
		}
	}
	if s.CanCreateApps {
		out["can_create_apps"] = "true"
	}
	if s.PasswordSet {
		out["password_set"] = "true"
	}
	for k, v := range s.Attributes {
		if t := v.Text(); t != "" {
			out[k] = t
		}
	}
	for k, v := range s.Metadata {
		if v != "" {
			out[MetadataPrefix+k] = v
		}
	}
	return out
}

// HistoryRepo stores the history of changes.
type HistoryRepo interface {
	InsertHistory(ctx context.Context, h *HistoryEntry) error
	InsertHistoryBatch(ctx context.Context, hs []HistoryEntry) error
	ListHistory(ctx context.Context, orgID, targetID string) ([]HistoryEntry, error)
}
