package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/rosterhq/roster/api/importer"
	"github.com/rosterhq/roster/core"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// importFile finds the uploaded file: a CSV or XLSX body, or the "file" part
// of a multipart form.
func importFile(r *http.Request) (io.Reader, importer.Format, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, "", badRequest("file", "send text/csv, %s, or a multipart form with a file part", xlsxType)
	}
	switch mt {
	case "text/csv", "application/csv":
		return r.Body, importer.CSV, nil
	case xlsxType:
		return r.Body, importer.XLSX, nil
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, "", badRequest("file", "malformed multipart body: %v", err)
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				return nil, "", badRequest("file", "the form has no file part")
			}
			if p.FormName() != "file" {
				continue
			}
			switch strings.ToLower(path.Ext(p.FileName())) {
			case ".csv":
				return p, importer.CSV, nil
			case ".xlsx":
				return p, importer.XLSX, nil
			}
			return nil, "", badRequest("file", "%q is not a .csv or .xlsx file", p.FileName())
		}
	}
	return nil, "", badRequest("file", "send text/csv, %s, or a multipart form with a file part", xlsxType)
}

type importRow struct {
	Line     int          `json:"line"`
	Username string       `json:"username"`
	Outcome  string       `json:"outcome"`
	ID       string       `json:"id,omitempty"`
	Error    *errorDetail `json:"error,omitempty"` // the error's code, message and field, as in an error body's "error"
}

// importUsers handles POST /users/import?dry_run=true|false&send_invite=true|false.
func (a *API) importUsers(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	q := r.URL.Query()
	dryRun := q.Get("dry_run") != "false"
	mode := core.InviteByMail
	switch q.Get("send_invite") {
	case "", "true":
	case "false":
		mode = core.InviteByLink
	default:
		return badRequest("send_invite", "%q is not true or false", q.Get("send_invite"))
	}
	r.Body = http.MaxBytesReader(w, r.Body, importer.MaxBytes+1<<20)
	body, format, err := importFile(r)
	if err != nil {
		return err
	}
	rows, err := importer.Parse(body, format, core.MaxImportRows)
	if err != nil {
		var fe *importer.Error
		if errors.As(err, &fe) && fe.TooLarge {
			return &httpError{status: http.StatusRequestEntityTooLarge, code: "too_large", field: "file", msg: fe.Error()}
		}
		if errors.As(err, &fe) {
			return &httpError{status: http.StatusBadRequest, code: "invalid_file", field: "file", msg: fe.Error()}
		}
		return err
	}
	for i := range rows {
		rows[i].User.Invite = mode
	}
	outcomes, err := a.svc.ImportUsers(r.Context(), a.actor(r), orgID(r), rows, dryRun)
	if err != nil {
		return err
	}
	out := make([]importRow, len(outcomes))
	ok := 0
	for i, o := range outcomes {
		out[i] = importRow{Line: o.Line, Username: o.Username, Outcome: o.Outcome, ID: o.ID}
		if o.Error != nil {
			_, body := a.errorBody(r, o.Error)
			out[i].Error = &body.Error
		} else {
			ok++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"dry_run": dryRun, "total": len(out), "ok": ok, "failed": len(out) - ok, "rows": out})
	return nil
}
