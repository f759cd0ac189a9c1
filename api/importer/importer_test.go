package importer

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/rosterhq/roster/core"
)

func TestParseCSV(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		rows  int
		check func(t *testing.T, rows []core.ImportRow)
		err   string
	}{
		{name: "plain", in: "username,email,first_name,last_name,role,can_create_apps,metadata.department\n" +
			"ann@example.com,ann@example.com,Ann,Lee,admin,yes,Sales\n\n" +
			"bob@example.com,,Bob,,,no,\n", rows: 2, check: func(t *testing.T, rows []core.ImportRow) {
			a, b := rows[0], rows[1]
			if a.Line != 2 || a.User.Username != "ann@example.com" || a.User.Role != core.RoleAdmin || !a.User.CanCreateApps || a.User.Metadata["department"] != "Sales" {
				t.Fatalf("row 1: %+v", a)
			}
			if b.Line != 4 || b.User.FirstName != "Bob" || b.User.Metadata != nil || b.User.Role != "" {
				t.Fatalf("row 2 (after a blank line): %+v", b)
			}
		}},
		{name: "vendor header spellings, BOM and semicolons", in: "\ufeffUser ID;First Name;Last Name;E-mail;Set as Admin?\nzoe@x.com;Zoë;Ångström;zoe@x.com;Yes\n", rows: 1,
			check: func(t *testing.T, rows []core.ImportRow) {
				u := rows[0].User
				if u.Username != "zoe@x.com" || u.FirstName != "Zoë" || u.LastName != "Ångström" || u.Email != "zoe@x.com" || u.Role != core.RoleAdmin {
					t.Fatalf("%+v", u)
				}
			}},
		{name: "quoted commas and newlines", in: "username,last_name\n\"a@x.com\",\"Smith, Jr.\nthe second\"\nb@x.com,B\n", rows: 2, check: func(t *testing.T, rows []core.ImportRow) {
			if rows[0].User.LastName != "Smith, Jr.\nthe second" || rows[1].Line != 4 {
				t.Fatalf("%+v", rows)
			}
		}},
		{name: "empty file", in: "", err: "a header row is required"},
		{name: "no username column", in: "first_name,last_name\nA,B\n", err: "no username column"},
		{name: "unknown column", in: "username,nickname\na,b\n", err: `column "nickname": is not a known column`},
		{name: "duplicate column", in: "username,Username\na,b\n", err: `column "Username": appears twice`},
		{name: "a bad yes/no marks its row only", in: "username,Can user create apps?,set_as_admin\na,maybe,no\nb,yes,sure\nc,no,yes\n", rows: 3, check: func(t *testing.T, rows []core.ImportRow) {
			var ve *core.ValidationError
			if !errors.As(rows[0].Err, &ve) || ve.Field() != "can_create_apps" || ve.Error() != `can_create_apps: line 2: column "Can user create apps?": "maybe" is not yes or no` {
				t.Fatalf("row 2: %v", rows[0].Err)
			}
			if !errors.As(rows[1].Err, &ve) || ve.Field() != "set_admin" || !strings.Contains(ve.Error(), `line 3: column "set_as_admin": "sure" is not yes or no`) {
				t.Fatalf("row 3: %v", rows[1].Err)
			}
			if rows[2].Err != nil || rows[2].User.Role != core.RoleAdmin || rows[2].User.Username != "c" {
				t.Fatalf("row 4: %+v", rows[2])
			}
		}},
		{name: "the export's own columns are skipped and its formula guard read back", in: "username,full_name,phone,last_name,status,invite_status,source,groups,created_at,last_login_at\n" +
			"a,A B,'+49 30 1234,'=SUM(1),active,accepted,native,x;y,2026-01-01T00:00:00Z,\n", rows: 1, check: func(t *testing.T, rows []core.ImportRow) {
			u := rows[0].User
			if rows[0].Err != nil || u.Phone != "+49 30 1234" || u.LastName != "=SUM(1)" {
				t.Fatalf("%+v %v", u, rows[0].Err)
			}
		}},
		{name: "a quote before anything else is kept", in: "username,last_name\na,'Brien\n", rows: 1, check: func(t *testing.T, rows []core.ImportRow) {
			if rows[0].User.LastName != "'Brien" {
				t.Fatalf("%+v", rows[0].User)
			}
		}},
		{name: "too many cells", in: "username\na,b\n", err: "line 2: 2 cells but only 1 columns"},
		{name: "bad encoding", in: "username,last_name\na,M\xfcller\n", err: `line 2: column "last_name": is not valid UTF-8`},
		{name: "broken quotes", in: "username\n\"a\n", err: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Parse(strings.NewReader(tt.in), CSV, 100)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tt.rows {
				t.Fatalf("%d rows, want %d", len(rows), tt.rows)
			}
			tt.check(t, rows)
		})
	}
}

func TestParseRefusesTooManyRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("username\n")
	for i := 0; i < 101; i++ {
		fmt.Fprintf(&b, "u%d\n", i)
	}
	if _, err := Parse(strings.NewReader(b.String()), CSV, 100); err == nil || !strings.Contains(err.Error(), "more than 100 rows") {
		t.Fatalf("got %v", err)
	}
}

func TestParseXLSX(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, row := range [][]any{
		{"Username", "Email", "First Name", "Can User Create Apps?", "metadata.floor"},
		{"ann@example.com", "ann@example.com", "Ann", true, 3},
		{"bob@example.com", "bob@example.com", "Bob", "no", nil},
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := Parse(&buf, XLSX, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].User.FirstName != "Ann" || !rows[0].User.CanCreateApps || rows[0].User.Metadata["floor"] != "3" || rows[1].Line != 3 || rows[1].User.CanCreateApps {
		t.Fatalf("%+v", rows)
	}
	if _, err := Parse(strings.NewReader("username\nnot a workbook\n"), XLSX, 100); err == nil || !strings.Contains(err.Error(), "not a readable .xlsx") {
		t.Fatalf("CSV sent as XLSX: %v", err)
	}
}

// bombXLSX is a workbook whose one sheet inflates to sheetBytes (spaces
// between a header row and the end of the sheet), and parts extra parts.
func bombXLSX(t testing.TB, sheetBytes int64, parts int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name, body string) io.Writer {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
		return w
	}
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	put("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`)
	w := put("xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>username</t></is></c></row>`)
	pad := bytes.Repeat([]byte(" "), 1<<20)
	for n := int64(0); n < sheetBytes; n += int64(len(pad)) {
		if _, err := w.Write(pad); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.WriteString(w, `</sheetData></worksheet>`); err != nil {
		t.Fatal(err)
	}
	for i := range parts {
		put(fmt.Sprintf("xl/extra/%d.xml", i), "<x/>")
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseXLSXRefusesABomb(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sheet     int64
		parts     int
		tooLarge  bool
		wantInErr string
	}{
		{name: "small sheet of padding", sheet: 1 << 20, parts: 0},
		{name: "inflates past the limit", sheet: MaxXLSXInflated + 1, tooLarge: true, wantInErr: fmt.Sprintf("more than %d MiB", MaxXLSXInflated>>20)},
		{name: "too many parts", parts: MaxXLSXParts, tooLarge: true, wantInErr: fmt.Sprintf("at most %d are read", MaxXLSXParts)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bombXLSX(t, tc.sheet, tc.parts)
			rows, err := Parse(bytes.NewReader(data), XLSX, 100)
			var fe *Error
			if !tc.tooLarge {
				if err != nil || len(rows) != 0 {
					t.Fatalf("a padded header-only sheet: %v %v", rows, err)
				}
				return
			}
			if !errors.As(err, &fe) || !fe.TooLarge || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Fatalf("got %v, want a too-large error naming %q", err, tc.wantInErr)
			}
		})
	}
}
