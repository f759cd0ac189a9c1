package api

import (
	"encoding/csv"
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster/api/importer"
	"github.com/rosterhq/roster/core"
)

// exportUsers streams the users list (same filters and search as the list) as CSV.
func (a *API) exportUsers(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	s, err := searchFromQuery(r)
	if err != nil {
		return err
	}
	s.Limit = 500
	s.After = nil
	tpl, err := a.svc.MetadataTemplate(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	text := r.URL.Query().Get("q")
	first, err := a.svc.SearchUsers(r.Context(), s, text) // errors before any byte is written
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="users.csv"`)
	cw := csv.NewWriter(w)
	header := []string{"username", "first_name", "last_name", "full_name", "email", "phone", "language", "role", "can_create_apps",
		"status", "invite_status", "source", "groups", "created_at", "last_login_at", core.AttrNameDisplayName, core.AttrNameExternalID}
	docCols := importer.DocumentColumns()
	header = append(header, docCols...)
	for _, f := range tpl {
		header = append(header, "metadata."+f.Name)
	}
	_ = cw.Write(header)
	page := first
	for {
		for _, u := range page.Users {
			last := ""
			if u.LastLoginAt != nil {
				last = u.LastLoginAt.UTC().Format(time.RFC3339)
			}
			row := []string{u.Username, u.FirstName, u.LastName, u.FullName, u.Email, u.Phone, u.Language, string(u.Role),
				boolText(u.CanCreateApps), string(u.Status), string(u.InviteStatus), u.Source, strings.Join(u.Groups, ";"),
				u.CreatedAt.UTC().Format(time.RFC3339), last, u.DisplayName, u.ExternalID}
			for _, name := range docCols {
				row = append(row, u.Attributes.Str(name))
			}
			for _, f := range tpl {
				row = append(row, u.Metadata[f.Name])
			}
			for i := range row {
				row[i] = safeCell(row[i])
			}
			if err := cw.Write(row); err != nil {
				return nil // the client went away
			}
		}
		if page.Next == nil || r.Context().Err() != nil {
			break
		}
		s.After = page.Next
		if page, err = a.svc.SearchUsers(r.Context(), s, text); err != nil {
			a.log.Error("export users", "err", err)
			break
		}
	}
	cw.Flush()
	return nil
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// safeCell defuses spreadsheet formula injection (OWASP "CSV injection"):
// a cell starting with = + - @ or a control character is prefixed with '.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
