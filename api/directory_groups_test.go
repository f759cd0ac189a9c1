package api_test

import (
	"strings"
	"testing"
)

// A group provisioned by a directory (here over SCIM) is the directory's:
// an owner of the organisation cannot rename it, change its members or
// delete it (the next sync would undo it silently); the refusal names the
// source, and nothing changes. The directory itself still changes it, and
// the owner's own groups stay editable.
func TestDirectoryGroupsAreReadOnlyToPeople(t *testing.T) {
	e := newTenantEnv(t)
	g := "/api/v1/groups/" + e.aSCIMGroup
	someone := e.mustID(e.owner, "POST", "/api/v1/users", map[string]any{"username": "member@example.com", "email": "member@example.com",
		"first_name": "M", "last_name": "M", "send_invite": false})
	for _, tt := range []struct {
		name, method, path string
		body               any
	}{
		{"rename", "PATCH", g, map[string]any{"name": "renamed"}},
		{"replace members", "PUT", g + "/members", map[string]any{"user_ids": []string{someone}}},
		{"add a member", "POST", g + "/members", map[string]any{"user_ids": []string{someone}}},
		{"remove a member", "DELETE", g + "/members/" + someone, nil},
		{"delete", "DELETE", g, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(nil, tt.method, tt.path, e.owner, tt.body)
			body, _ := r.body["error"].(map[string]any)
			msg, _ := body["message"].(string)
			if r.code != 403 || !strings.Contains(msg, "scim:okta") {
				t.Fatalf("%s %s: %d %s, want 403 naming the source", tt.method, tt.path, r.code, r.raw)
			}
		})
	}
	r := e.do(nil, "GET", "/api/v1/groups", e.owner, nil)
	if !strings.Contains(r.raw, `"a-scim-group"`) || strings.Contains(r.raw, "renamed") {
		t.Errorf("the directory group changed: %s", r.raw)
	}
	if m := e.do(nil, "GET", g+"/members", e.owner, nil); strings.Contains(m.raw, someone) {
		t.Errorf("a member was added: %s", m.raw)
	}
	// The directory renames its own group; the owner edits a native one.
	e.must2xx(e.aSCIMTok, "PATCH", "/scim/v2/Groups/"+e.aSCIMGroup, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "displayName", "value": "a-scim-group-2"}}})
	e.must2xx(e.owner, "PATCH", "/api/v1/groups/"+e.aGroup, map[string]any{"name": "a-group-2"})
	e.must2xx(e.owner, "POST", "/api/v1/groups/"+e.aGroup+"/members", map[string]any{"user_ids": []string{someone}})
}
