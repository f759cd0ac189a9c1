package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func (f *fixture) upload(path, contentType string, body []byte) resp {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.owner)
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{code: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	if res.StatusCode >= 500 {
		f.t.Fatalf("%d %s", res.StatusCode, raw)
	}
	return out
}

func outcomes(r resp) []string {
	var out []string
	for _, x := range r.body["rows"].([]any) {
		m := x.(map[string]any)
		s := fmt.Sprintf("%v:%s", m["line"], m["outcome"])
		if e, ok := m["error"].(map[string]any); ok {
			s += ":" + e["field"].(string)
		}
		out = append(out, s)
	}
	return out
}

func TestImportDryRunThenReal(t *testing.T) {
	f := newFixture(t, 100)
	f.do(nil, "PUT", "/api/v1/org/metadata-template", f.owner, map[string]any{"fields": []map[string]any{{"name": "department", "type": "string", "required": true}}})
	f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "taken@example.com", "email": "taken@example.com", "send_invite": false, "metadata": map[string]string{"department": "X"}})
	csv := "username,email,first_name,last_name,role,metadata.department\n" +
		"ann@example.com,ann@example.com,Ann,Lee,member,Sales\n" + // 2 ok
		"TAKEN@example.com,t2@example.com,T,T,member,Sales\n" + // 3 taken in the store
		"bob@example.com,bob@example.com,Bob,B,member,\n" + // 4 missing required metadata
		"ANN@example.com,ann2@example.com,Ann,Again,member,Sales\n" + // 5 duplicate in the file
		"boss@example.com,,Boss,B,admin,Sales\n" + // 6 admin without email
		"cy@example.com,cy@example.com,Cy,C,developer,Eng\n" // 7 ok
	want := []string{"2:valid", "3:invalid:username", "4:invalid:metadata.department", "5:invalid:username", "6:invalid:email", "7:valid"}
	dry := f.upload("/api/v1/users/import?dry_run=true", "text/csv", []byte(csv))
	if dry.code != 200 || fmt.Sprint(outcomes(dry)) != fmt.Sprint(want) || dry.body["ok"] != 2.0 {
		t.Fatalf("dry run: %d %v %s", dry.code, outcomes(dry), dry.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/users", f.owner, nil); r.body["total"] != 2.0 {
		t.Fatalf("a dry run wrote users: %v", r.body["total"])
	}
	real := f.upload("/api/v1/users/import?dry_run=false", "text/csv", []byte(csv))
	got := outcomes(real)
	if real.code != 200 || got[0] != "2:created" || got[5] != "7:created" || got[1] != "3:invalid:username" {
		t.Fatalf("real run: %v", got)
	}
	l := f.do(nil, "GET", "/api/v1/users?q=cy@example.com", f.owner, nil)
	if l.body["total"] != 1.0 || l.body["users"].([]any)[0].(map[string]any)["invite_status"] != "pending" {
		t.Fatalf("imported user: %s", l.raw)
	}
	id := l.body["users"].([]any)[0].(map[string]any)["id"].(string)
	if m := f.do(nil, "GET", "/api/v1/users/"+id+"/mail", f.owner, nil); len(m.body["mail"].([]any)) != 1 {
		t.Fatalf("imported user's invitation not queued: %s", m.raw)
	}
	// The same file again: everything is now a duplicate.
	again := f.upload("/api/v1/users/import?dry_run=false", "text/csv", []byte(csv))
	if again.body["ok"] != 0.0 {
		t.Fatalf("second import created users: %v", outcomes(again))
	}
}

func TestImportBadFiles(t *testing.T) {
	f := newFixture(t, 100)
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	part, _ := w.CreateFormFile("file", "people.csv")
	part.Write([]byte("username,email\nmp@example.com,mp@example.com\n"))
	w.Close()
	if r := f.upload("/api/v1/users/import?dry_run=false&send_invite=false", w.FormDataContentType(), mp.Bytes()); r.code != 200 || fmt.Sprint(outcomes(r)) != "[2:created]" {
		t.Fatalf("multipart: %d %s", r.code, r.raw)
	}
	var big strings.Builder
	big.WriteString("username\n")
	for i := 0; i < 20001; i++ {
		fmt.Fprintf(&big, "u%d\n", i)
	}
	for _, tc := range []struct {
		name, ct, body, want string
	}{
		{"no header", "text/csv", "", "header row is required"},
		{"latin-1", "text/csv", "username,last_name\nx,M\xfcller\n", `line 2: column \"last_name\": is not valid UTF-8`},
		{"unknown column", "text/csv", "username,shoe_size\nx,42\n", "shoe_size"},
		{"not a workbook", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "hello", "not a readable .xlsx"},
		{"wrong type", "application/pdf", "%PDF", "send text/csv"},
		{"too many rows", "text/csv", big.String(), "more than 20000 rows"},
	} {
		r := f.upload("/api/v1/users/import?dry_run=false", tc.ct, []byte(tc.body))
		if r.code != 400 || !strings.Contains(r.raw, tc.want) || r.errField() != "file" {
			t.Errorf("%s: %d %s", tc.name, r.code, r.raw)
		}
	}
	if r := f.do(nil, "GET", "/api/v1/users", f.owner, nil); r.body["total"] != 2.0 {
		t.Fatalf("bad files wrote users: %v", r.body["total"])
	}
}

// BenchmarkImport10k imports a 10,000-row CSV (real run: users, history,
// invites and queued mails written) through the HTTP API. Reproduce:
//
//	go test ./api -run '^$' -bench Import10k -benchtime 1x -count 5
func BenchmarkImport10k(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("username,email,first_name,last_name,phone\n")
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&csv, "imp%05d@example.com,imp%05d@example.com,First%d,Last%d,+1 555 %07d\n", i, i, i, i, i)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newFixture(b, 100)
		b.StartTimer()
		r := f.upload("/api/v1/users/import?dry_run=false", "text/csv", []byte(csv.String()))
		if r.code != 200 || r.body["ok"] != 10000.0 {
			b.Fatalf("import: %d %v", r.code, r.body["failed"])
		}
	}
}
