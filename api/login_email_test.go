package api_test

import (
	"strings"
	"testing"
)

// Sign in with the email as well as the username (the console's field says
// "Username or email"), over HTTP; a wrong password by email is the same
// 401 as by username, and a username that looks like an email wins over
// another user's email.
func TestLoginWithUsernameOrEmail(t *testing.T) {
	f := newFixture(t, 1000)
	r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "jdoe", "email": "Jane.Doe@example.com",
		"first_name": "Jane", "last_name": "Doe", "send_invite": false})
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.raw)
	}
	link := r.body["invite_link"].(string)
	if a := f.do(nil, "POST", "/api/v1/invites/accept", "", map[string]any{"token": link[strings.LastIndex(link, "/")+1:], "password": "Sturdy-passphrase-7"}); a.code != 200 {
		t.Fatalf("accept: %d %s", a.code, a.raw)
	}
	for _, login := range []string{"jdoe", "jane.doe@example.com", "JANE.DOE@example.com"} {
		tok := f.login(login, "Sturdy-passphrase-7", "console")
		if me := f.do(nil, "GET", "/api/v1/me", tok, nil); me.body["username"] != "jdoe" {
			t.Errorf("login as %q is %v", login, me.body["username"])
		}
	}
	// Another user whose username is jdoe's email: the username wins.
	r = f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "jane.doe@example.com", "email": "other@example.com",
		"first_name": "O", "last_name": "T", "send_invite": false})
	if r.code != 201 {
		t.Fatalf("create the other user: %d %s", r.code, r.raw)
	}
	other := r.body["id"]
	link = r.body["invite_link"].(string)
	if a := f.do(nil, "POST", "/api/v1/invites/accept", "", map[string]any{"token": link[strings.LastIndex(link, "/")+1:], "password": "Sturdy-passphrase-7"}); a.code != 200 {
		t.Fatalf("accept: %d %s", a.code, a.raw)
	}
	tok := f.login("jane.doe@example.com", "Sturdy-passphrase-7", "console")
	if me := f.do(nil, "GET", "/api/v1/me", tok, nil); me.body["id"] != other {
		t.Errorf("a username equal to another user's email signs in as %v, want its own user", me.body["username"])
	}
	for _, tt := range []struct{ login, pw string }{
		{"jane.doe@example.com", "Wrong-passphrase-7"},
		{"nobody@example.com", "Sturdy-passphrase-7"},
	} {
		r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": tt.login, "password": tt.pw, "audience": "console"})
		if r.code != 401 {
			t.Errorf("login %q with a wrong password or no such user: %d %s", tt.login, r.code, r.raw)
		}
	}
}
