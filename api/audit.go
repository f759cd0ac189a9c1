package api

import (
	"encoding/base64"
	"encoding/csv"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/core"
)

// The organisation's audit log: GET /api/v1/audit, JSON pages with a next
// cursor, or the whole filtered log as CSV (Accept: text/csv or
// ?format=csv), streamed a page at a time.

// cursorPrefix marks an audit cursor; the cursor is opaque to clients.
const cursorPrefix = "h:"

func encodeCursor(id int64) string {
	if id == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	id, perr := strconv.ParseInt(rest, 10, 64)
	if err != nil || !ok || perr != nil || id <= 0 {
		return 0, badRequest("cursor", "cursor: not a cursor of this log (use the next value of a page)")
	}
	return id, nil
}

// auditFilterOf reads the audit log's filter from the query; a bad value is
// refused naming its parameter.
func auditFilterOf(r *http.Request) (core.AuditFilter, error) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "actor", "user", "action", "since", "until", "cursor", "limit", "format":
		default:
			return core.AuditFilter{}, badRequest(k, "%s: unknown parameter (actor, user, action, since, until, cursor, limit, format)", k)
		}
	}
	f := core.AuditFilter{OrgID: orgID(r), Actor: q.Get("actor"), UserID: q.Get("user"), Action: q.Get("action")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, badRequest(p.name, "%s: %q is not an RFC 3339 time (e.g. 2026-12-03T10:42:00Z)", p.name, v)
			}
			*p.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > core.AuditMaxLimit {
			return f, badRequest("limit", "limit: %q is not a number from 1 to %d", v, core.AuditMaxLimit)
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		id, err := decodeCursor(v)
		if err != nil {
			return f, err
		}
		f.Before = id
	}
	if v := q.Get("format"); v != "" && v != "csv" && v != "json" {
		return f, badRequest("format", "format: %q is neither csv nor json", v)
	}
	return f, nil
}

// wantsCSV: ?format=csv, or an Accept header preferring text/csv (and no
// ?format=json).
func wantsCSV(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "csv":
		return true
	case "json":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			return true
		case "application/json", "*/*":
			return false
		}
	}
	return false
}

func (a *API) auditLog(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeAuditLog(a.actor(r)); err != nil {
		return err
	}
	f, err := auditFilterOf(r)
	if err != nil {
		return err
	}
	if wantsCSV(r) {
		return a.auditCSV(w, r, f)
	}
	page, err := a.svc.AuditLog(r.Context(), a.actor(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": page.Entries, "next": encodeCursor(page.Next)})
	return nil
}

// auditCSV streams every entry the filter matches (from the cursor, if
// given), AuditMaxLimit at a time: memory stays one page whatever the size.
func (a *API) auditCSV(w http.ResponseWriter, r *http.Request, f core.AuditFilter) error {
	f.Limit = core.AuditMaxLimit
	page, err := a.svc.AuditLog(r.Context(), a.actor(r), f) // errors before any byte is written
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "at", "actor_kind", "actor_name", "actor_id", "action", "target_type", "target_id", "changes",
		"token_id", "token_created_by", "request_id"})
	for {
		for _, h := range page.Entries {
			changes := make([]string, len(h.Changes))
			for i, c := range h.Changes {
				changes[i] = c.String()
			}
			row := []string{strconv.FormatInt(h.ID, 10), h.At.UTC().Format(time.RFC3339), string(h.ActorKind), h.ActorName, h.ActorID,
				h.Action, h.TargetType, h.TargetID, strings.Join(changes, "; "), h.TokenID, h.TokenCreatedBy, h.RequestID}
			for i := range row {
				row[i] = safeCell(row[i])
			}
			if err := cw.Write(row); err != nil {
				return nil // the client went away
			}
		}
		cw.Flush()
		if page.Next == 0 || r.Context().Err() != nil {
			return nil
		}
		f.Before = page.Next
		if page, err = a.svc.AuditLog(r.Context(), a.actor(r), f); err != nil {
			a.log.Error("export audit log", "err", err)
			return nil
		}
	}
}
