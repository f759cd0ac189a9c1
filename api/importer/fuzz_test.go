package importer

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/rosterhq/roster/core"
)

// FuzzParseCSV feeds arbitrary bytes to the CSV reader: it never panics, a
// failure is an *Error naming a line or column, and every row it accepts has
// valid UTF-8 text.
func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"username,email,first_name,last_name,role,can_create_apps,metadata.department\nann@example.com,ann@example.com,Ann,Lee,admin,yes,Sales\n",
		"\ufeffUser ID;First Name;Last Name;E-mail;Set as Admin?\nzoe@x.com;Zoë;Ångström;zoe@x.com;Yes\n",
		"username,last_name\n\"a@x.com\",\"Smith, Jr.\nthe second\"\n",
		"username\n\"a\n", "username,can_create_apps\na,maybe\n", "username,last_name\na,M\xfcller\n",
		"username\ta\n1\t2\n", "", "\n\n\n", "username,metadata.\na,b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := Parse(bytes.NewReader(data), CSV, 50)
		checkParsed(t, rows, err)
	})
}

// FuzzParseXLSX mutates a real workbook: the zip/XML reader must fail with
// an error, never panic or hang.
func FuzzParseXLSX(f *testing.F) {
	x := excelize.NewFile()
	_ = x.SetSheetRow("Sheet1", "A1", &[]any{"username", "email", "first_name", "role"})
	_ = x.SetSheetRow("Sheet1", "A2", &[]any{"ann@example.com", "ann@example.com", "Ann", "admin"})
	_ = x.SetSheetRow("Sheet1", "A3", &[]any{"bob@example.com", "", 42, ""})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := Parse(bytes.NewReader(data), XLSX, 50)
		checkParsed(t, rows, err)
	})
}

func checkParsed(t *testing.T, rows []core.ImportRow, err error) {
	t.Helper()
	if err != nil {
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error of type %T, want *importer.Error naming the line/column: %v", err, err)
		}
		return
	}
	if len(rows) > 50 {
		t.Fatalf("%d rows past the limit of 50", len(rows))
	}
	for _, r := range rows {
		for _, s := range []string{r.User.Username, r.User.Email, r.User.FirstName, r.User.LastName} {
			if !utf8.ValidString(s) {
				t.Fatalf("line %d: invalid UTF-8 accepted: %q", r.Line, s)
			}
		}
	}
}
