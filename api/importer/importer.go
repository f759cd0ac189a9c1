// Package importer reads user lists from CSV and Excel (.xlsx) files: a
// header row mapped to user fields, one core.ImportRow per data row. Bad
// files get errors naming the line or the column; nothing is guessed.
package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/rosterhq/roster/core"
)

// Format is a file format.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// MaxBytes bounds an uploaded file.
const MaxBytes = 32 << 20

// Bounds of an .xlsx workbook once inflated. A workbook is a zip of XML
// parts: MaxXLSXInflated is what MaxImportRows rows of the columns roster
// knows need with room to spare (the XML of a sheet is a few times its
// CSV), and twice MaxBytes, so a full CSV's worth of data fits. The sizes are
// the ones the zip declares, read before any part is opened; archive/zip
// refuses a part that inflates past its declared size, so they cannot lie.
const (
	MaxXLSXInflated = 2 * MaxBytes
	MaxXLSXParts    = 1000
	// xlsxXMLInMemory: a worksheet part larger than this is inflated to a
	// temporary file and streamed from there rather than held in memory.
	xlsxXMLInMemory = 8 << 20
)

// Error is a problem with the file as a whole or with one line of it.
type Error struct {
	Line     int    // 0 when it concerns the whole file
	Column   string // the header name, when it concerns one column
	Msg      string
	TooLarge bool // the file is over MaxBytes
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// columns maps normalised header names to what they set.
var columns = map[string]func(u *core.NewUser, v string) error{
	"username":   func(u *core.NewUser, v string) error { u.Username = v; return nil },
	"email":      func(u *core.NewUser, v string) error { u.Email = v; return nil },
	"first_name": func(u *core.NewUser, v string) error { u.FirstName = v; return nil },
	"last_name":  func(u *core.NewUser, v string) error { u.LastName = v; return nil },
	"phone":      func(u *core.NewUser, v string) error { u.Phone = v; return nil },
	"language":   func(u *core.NewUser, v string) error { u.Language = v; return nil },
	"role": func(u *core.NewUser, v string) error {
		if v != "" {
			u.Role = core.Role(strings.ToLower(v))
		}
		return nil
	},
	"can_create_apps": func(u *core.NewUser, v string) error { return setBool(&u.CanCreateApps, v) },
	// set_admin (the bulk action's word): yes makes the row an admin, as
	// role admin does; "set as admin?" (the vendor consoles') is its alias.
	"set_admin": func(u *core.NewUser, v string) error {
		var admin bool
		if err := setBool(&admin, v); err != nil {
			return err
		}
		if admin {
			u.Role = core.RoleAdmin
		}
		return nil
	},
}

func init() {
	columns[core.AttrNameDisplayName] = func(u *core.NewUser, v string) error { u.DisplayName = v; return nil }
	columns[core.AttrNameExternalID] = func(u *core.NewUser, v string) error { u.ExternalID = v; return nil }
	for _, name := range DocumentColumns() {
		columns[name] = func(u *core.NewUser, v string) error {
			if v != "" {
				u.Attributes.SetStr(name, v)
			}
			return nil
		}
	}
}

// DocumentColumns are the columns of the schema's document string
// attributes an admin may write (title, department, middle_name, …), by API
// name, in schema order: the import reads them and the export writes them.
// A new document attribute in core.UserSchema is a new column with no code
// here.
func DocumentColumns() []string {
	var out []string
	for _, def := range core.DocumentAttributes() {
		if def.Kind == core.KindString && def.AdminWrite {
			out = append(out, def.Name)
		}
	}
	return out
}

// knownColumns lists the columns an import reads, for the unknown-column error.
func knownColumns() string {
	return "username, email, first_name, last_name, display_name, phone, language, role, can_create_apps, set_admin, external_id, " +
		strings.Join(DocumentColumns(), ", ") + ", metadata.NAME"
}

// aliases are header spellings from the vendor documents' consoles.
var aliases = map[string]string{
	"user_id": "username", "userid": "username", "user_name": "username", "login": "username",
	"e_mail": "email", "email_address": "email", "mail": "email",
	"first": "first_name", "firstname": "first_name", "given_name": "first_name",
	"last": "last_name", "lastname": "last_name", "surname": "last_name", "family_name": "last_name",
	"phone_number": "phone", "telephone": "phone",
	"can_user_create_apps": "can_create_apps", "set_as_admin": "set_admin", "set_as_admin?": "set_admin", "can_user_create_apps?": "can_create_apps",
}

// exportOnly are the columns of GET /users/export that an import cannot
// set (they are the server's: status, history, memberships). An import
// skips them, so an export imports back as it is.
var exportOnly = map[string]bool{
	"full_name": true, "status": true, "invite_status": true, "source": true, "groups": true,
	"created_at": true, "last_login_at": true,
}

// unformula reads back a cell that the export defused against formula
// injection: a ' before = + - @ or a tab or carriage return is dropped.
func unformula(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(v[1])) {
		return v[1:]
	}
	return v
}

func setBool(dst *bool, v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "no", "n", "0", "off":
		*dst = false
	case "true", "yes", "y", "1", "on":
		*dst = true
	default:
		return fmt.Errorf("%q is not yes or no", v)
	}
	return nil
}

func normalise(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	h = strings.NewReplacer(" ", "_", "-", "_").Replace(h)
	if a, ok := aliases[h]; ok {
		return a
	}
	return h
}

// Parse reads a whole file into rows. Metadata columns are "metadata.NAME"
// (NAME as in the organisation's template, case-sensitive).
func Parse(r io.Reader, f Format, maxRows int) ([]core.ImportRow, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, &Error{Msg: "cannot read the file: " + err.Error()}
	}
	if len(data) > MaxBytes {
		return nil, &Error{Msg: fmt.Sprintf("the file is over %d MiB", MaxBytes>>20), TooLarge: true}
	}
	var records func(yield func(line int, rec []string, err error) bool)
	switch f {
	case CSV:
		records = csvRecords(data)
	case XLSX:
		records, err = xlsxRecords(data)
		if err != nil {
			return nil, err
		}
	default:
		return nil, &Error{Msg: fmt.Sprintf("format %q is not csv or xlsx", f)}
	}
	var setters []func(u *core.NewUser, v string) error
	var headers, fields []string
	var rows []core.ImportRow
	var perr error
	records(func(line int, rec []string, err error) bool {
		if err != nil {
			perr = err
			return false
		}
		if headers == nil {
			headers = rec
			setters, fields, perr = mapHeader(rec)
			return perr == nil
		}
		if blank(rec) {
			return true
		}
		if len(rows) == maxRows {
			perr = &Error{Msg: fmt.Sprintf("more than %d rows; split the file", maxRows)}
			return false
		}
		if len(rec) > len(headers) {
			perr = &Error{Line: line, Msg: fmt.Sprintf("%d cells but only %d columns in the header", len(rec), len(headers))}
			return false
		}
		row := core.ImportRow{Line: line}
		var bad []core.FieldError
		for i, v := range rec {
			if !utf8.ValidString(v) {
				perr = &Error{Line: line, Column: headers[i], Msg: "is not valid UTF-8 (save the file as UTF-8)"}
				return false
			}
			if setters[i] == nil {
				continue
			}
			// A bad cell marks its row (naming the line and the column);
			// the other rows are still read.
			if err := setters[i](&row.User, unformula(strings.TrimSpace(v))); err != nil {
				bad = append(bad, core.FieldError{Field: fields[i], Message: (&Error{Line: line, Column: headers[i], Msg: err.Error()}).Error()})
			}
		}
		if bad != nil {
			row.Err = &core.ValidationError{Problems: bad}
		}
		rows = append(rows, row)
		return true
	})
	if perr != nil {
		return nil, perr
	}
	if headers == nil {
		return nil, &Error{Msg: "the file is empty: a header row is required"}
	}
	return rows, nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// mapHeader maps each column to what sets it (nil for an export-only
// column, which is skipped) and to its field name.
func mapHeader(rec []string) ([]func(*core.NewUser, string) error, []string, error) {
	setters := make([]func(*core.NewUser, string) error, len(rec))
	fields := make([]string, len(rec))
	seen := map[string]bool{}
	hasUsername := false
	for i, h := range rec {
		if !utf8.ValidString(h) {
			return nil, nil, &Error{Line: 1, Msg: "the header is not valid UTF-8 (save the file as UTF-8)"}
		}
		n := normalise(h)
		if seen[n] {
			return nil, nil, &Error{Line: 1, Column: h, Msg: "appears twice in the header"}
		}
		seen[n] = true
		fields[i] = n
		if exportOnly[n] {
			continue
		}
		if field, ok := strings.CutPrefix(strings.TrimSpace(h), "metadata."); ok && field != "" {
			fields[i] = "metadata." + field
			setters[i] = func(u *core.NewUser, v string) error {
				if v == "" {
					return nil
				}
				if u.Metadata == nil {
					u.Metadata = map[string]string{}
				}
				u.Metadata[field] = v
				return nil
			}
			continue
		}
		set, ok := columns[n]
		if !ok {
			return nil, nil, &Error{Line: 1, Column: h, Msg: "is not a known column (" + knownColumns() + "; the export's status, invite_status, source, groups, full_name, created_at and last_login_at are skipped)"}
		}
		hasUsername = hasUsername || n == "username"
		setters[i] = set
	}
	if !hasUsername {
		return nil, nil, &Error{Line: 1, Msg: "the header has no username column (is the first row a header?)"}
	}
	return setters, fields, nil
}

func csvRecords(data []byte) func(yield func(int, []string, error) bool) {
	return func(yield func(int, []string, error) bool) {
		data = bytes.TrimPrefix(data, []byte("\ufeff"))
		br := bufio.NewReader(bytes.NewReader(data))
		// Excel in some locales writes ';'-separated CSV: follow the header.
		first, _ := br.Peek(4096)
		comma := ','
		if line, _, _ := bytes.Cut(first, []byte("\n")); bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
			comma = ';'
		}
		cr := csv.NewReader(br)
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = false
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					yield(0, nil, &Error{Line: pe.Line, Msg: pe.Err.Error()})
				} else {
					yield(0, nil, &Error{Msg: err.Error()})
				}
				return
			}
			line, _ := cr.FieldPos(0)
			if !yield(line, rec, nil) {
				return
			}
		}
	}
}

// checkXLSXSize refuses a workbook whose parts inflate past the bounds
// (a zip bomb), from the zip's central directory alone.
func checkXLSXSize(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return &Error{Msg: "not a readable .xlsx workbook: " + err.Error()}
	}
	if len(zr.File) > MaxXLSXParts {
		return &Error{Msg: fmt.Sprintf("the workbook has %d parts; at most %d are read", len(zr.File), MaxXLSXParts), TooLarge: true}
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > MaxXLSXInflated || total > MaxXLSXInflated {
			return &Error{Msg: fmt.Sprintf("the workbook inflates to more than %d MiB (the limit for %d rows); split the file or save it as CSV",
				MaxXLSXInflated>>20, core.MaxImportRows), TooLarge: true}
		}
	}
	return nil
}

func xlsxRecords(data []byte) (func(yield func(int, []string, error) bool), error) {
	if err := checkXLSXSize(data); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: MaxXLSXInflated, UnzipXMLSizeLimit: xlsxXMLInMemory})
	if err != nil {
		return nil, &Error{Msg: "not a readable .xlsx workbook: " + err.Error()}
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, &Error{Msg: "the workbook has no sheet"}
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, &Error{Msg: "cannot read the first sheet: " + err.Error()}
	}
	return func(yield func(int, []string, error) bool) {
		defer f.Close()
		defer rows.Close()
		line := 0
		for rows.Next() {
			line++
			rec, err := rows.Columns()
			if err != nil {
				yield(0, nil, &Error{Line: line, Msg: err.Error()})
				return
			}
			if !yield(line, rec, nil) {
				return
			}
		}
		if err := rows.Error(); err != nil {
			yield(0, nil, &Error{Msg: err.Error()})
		}
	}, nil
}
