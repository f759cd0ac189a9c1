package core

import (
	"context"
	"fmt"
	"time"
)

// The organisation's audit log: every history entry, newest first, filtered
// and keyset paged by entry id. Ids only grow, so a page boundary never moves
// when entries are written while an admin pages (a new entry is on page one).

// Audit log page sizes.
const (
	AuditDefaultLimit = 100
	AuditMaxLimit     = 500
)

// AuditFilter narrows the audit log. Empty fields do not filter.
type AuditFilter struct {
	OrgID  string
	Actor  string    // the actor's name as recorded (a username, "cli", a directory's source)
	UserID string    // entries about this user
	Action string    // one action, e.g. "user.role"
	Since  time.Time // at or after
	Until  time.Time // before
	Before int64     // the cursor: entries with a smaller id (0: from the newest)
	Limit  int       // 1..AuditMaxLimit; 0 is AuditDefaultLimit
}

// AuditPage is one page of the audit log; Next is the cursor of the page
// after it (0 when this is the last).
type AuditPage struct {
	Entries []HistoryEntry
	Next    int64
}

// AuditRepo reads the audit log.
type AuditRepo interface {
	// ListAudit returns up to f.Limit entries matching f with an id below
	// f.Before (any when 0), highest id first.
	ListAudit(ctx context.Context, f AuditFilter) ([]HistoryEntry, error)
}

// AuthorizeAuditLog: only owners and admins read the organisation's audit
// log. It records what user managers may not see otherwise (tokens,
// settings, directories, the admins' own changes); a user manager reads the
// history of each user they manage on the user's page.
func AuthorizeAuditLog(a Actor) error { return authorizeOwnerAdmin(a, PermAuditLog) }

// AuditLog returns one page of the organisation's audit log.
func (s *Service) AuditLog(ctx context.Context, a Actor, f AuditFilter) (*AuditPage, error) {
	if err := AuthorizeAuditLog(a); err != nil {
		return nil, err
	}
	var p problems
	switch {
	case f.Limit == 0:
		f.Limit = AuditDefaultLimit
	case f.Limit < 0 || f.Limit > AuditMaxLimit:
		p.add("limit", "must be between 1 and %d", AuditMaxLimit)
	}
	if f.Before < 0 {
		p.add("cursor", "is not a cursor of this log")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		p.add("until", "must be after since")
	}
	checkText(&p, "actor", f.Actor, MaxNameLen)
	checkText(&p, "action", f.Action, MaxNameLen)
	checkText(&p, "user", f.UserID, MaxNameLen)
	if err := p.err(); err != nil {
		return nil, err
	}
	want := f
	want.Limit = f.Limit + 1 // one more tells whether a next page exists
	hs, err := read(ctx, s.store, func(tx Tx) ([]HistoryEntry, error) { return tx.ListAudit(ctx, want) })
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	page := &AuditPage{Entries: hs}
	if len(hs) > f.Limit {
		page.Entries = hs[:f.Limit]
		page.Next = page.Entries[f.Limit-1].ID
	}
	for i := range page.Entries {
		if page.Entries[i].TargetType == "user" {
			page.Entries[i].Changes = SnapshotChanges(page.Entries[i].Before, page.Entries[i].After)
		}
	}
	return page, nil
}
