package api_test

import (
	"testing"
)

// An invitee who is disabled or archived is not "pending": the invite
// status is on_hold with the reason, in the user, the list, its filter and
// the counts; enabled again, the invitation is pending again.
func TestInviteOnHoldForDisabledAndArchivedInvitees(t *testing.T) {
	f := newFixture(t, 100)
	c := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "ivy@example.com", "email": "ivy@example.com", "first_name": "Ivy"})
	if c.code != 201 || c.body["invite_status"] != "pending" {
		t.Fatalf("create: %d %s", c.code, c.raw)
	}
	id := c.body["id"].(string)
	state := func() (string, string) {
		t.Helper()
		r := f.do(nil, "GET", "/api/v1/users/"+id, f.owner, nil)
		reason, _ := r.body["invite_reason"].(string)
		return r.body["invite_status"].(string), reason
	}
	listed := func(inviteStatus string) int {
		t.Helper()
		r := f.do(nil, "GET", "/api/v1/users?invite_status="+inviteStatus, f.owner, nil)
		if r.code != 200 {
			t.Fatalf("list %s: %d %s", inviteStatus, r.code, r.raw)
		}
		return int(r.body["total"].(float64))
	}
	counts := func() map[string]any {
		return f.do(nil, "GET", "/api/v1/users/counts", f.owner, nil).body["invite_status"].(map[string]any)
	}
	for _, step := range []struct {
		action, status, reason string
	}{
		{"disable", "on_hold", "user_disabled"},
		{"enable", "pending", ""},
		{"archive", "on_hold", "user_archived"},
		{"restore", "pending", ""},
	} {
		if r := f.do(nil, "POST", "/api/v1/users/"+id+"/"+step.action, f.owner, map[string]any{}); r.code != 200 {
			t.Fatalf("%s: %d %s", step.action, r.code, r.raw)
		}
		if st, reason := state(); st != step.status || reason != step.reason {
			t.Fatalf("after %s: invite %s (%q), want %s (%q)", step.action, st, reason, step.status, step.reason)
		}
		held, pending := 0, 1
		if step.status == "on_hold" {
			held, pending = 1, 0
		}
		if n := listed("on_hold"); n != held {
			t.Errorf("after %s: invite_status=on_hold lists %d, want %d", step.action, n, held)
		}
		if n := listed("pending"); n != pending {
			t.Errorf("after %s: invite_status=pending lists %d, want %d", step.action, n, pending)
		}
		if c := counts(); c["on_hold"] != float64(held) || c["pending"] != float64(pending) {
			t.Errorf("after %s: counts %v", step.action, c)
		}
	}
}
