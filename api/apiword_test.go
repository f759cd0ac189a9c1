package api_test

import (
	"strings"
	"testing"
)

// An invitation accepted after the user was disabled is a 409 the
// document lists (the response validator checks the body).
func TestAcceptInviteOfADisabledUserIsADocumented409(t *testing.T) {
	f := newFixture(t, 100)
	r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "late@example.com", "email": "late@example.com", "send_invite": false})
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.raw)
	}
	link := r.body["invite_link"].(string)
	id := r.body["id"].(string)
	if d := f.do(nil, "POST", "/api/v1/users/"+id+"/disable", f.owner, nil); d.code != 200 {
		t.Fatalf("disable: %d %s", d.code, d.raw)
	}
	a := f.do(nil, "POST", "/api/v1/invites/accept", "", map[string]any{"token": link[strings.LastIndex(link, "/")+1:], "password": "Sturdy-passphrase-7"})
	if a.code != 409 || a.errCode() != "illegal_transition" {
		t.Fatalf("accept after disable: %d %s", a.code, a.raw)
	}
}
