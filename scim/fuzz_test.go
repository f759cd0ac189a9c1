package scim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzHTTPBodies sends arbitrary bodies (and filters) through the whole SCIM
// handler — authentication, JSON decoding, validation, the core service and
// a real SQLite store: every answer is below 500 and is JSON.
func FuzzHTTPBodies(f *testing.F) {
	e := newEnv(f)
	uid := e.createUser("seed@example.com", nil)
	g := e.must(http.StatusCreated, e.do("POST", "/Groups", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "seeds",
		"members": []map[string]any{{"value": uid}}}))
	gid := g.str("id")
	seeds := []struct {
		route byte
		body  string
	}{
		{0, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x.com","name":{"givenName":"A","familyName":"B"},"emails":[{"value":"a@x.com","primary":true}],"active":true}`},
		{0, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"b@x.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1","manager":{"value":"x"}}}`},
		{1, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"nope"}]}`},
		{2, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"seed@example.com","active":false}`},
		{3, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":"False","name.givenName":"Z"}}]}`},
		{4, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"x"}]},{"op":"remove","path":"members[value eq \"y\"]"}]}`},
		{5, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"a\"","startIndex":-1,"count":1e9,"sortBy":"meta.created"}`},
		{6, `emails[type eq "work" and value co "@"] or not (active eq true)`},
		{7, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"seeds","members":[]}`},
		{0, `{`}, {0, `[]`}, {0, `{"userName":null}`}, {0, "{\"userName\":\"\\ud800\"}"}, {3, `{"Operations":[{}]}`},
	}
	for _, s := range seeds {
		f.Add(s.route, s.body)
	}
	h := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, route byte, body string) {
		var method, path string
		switch route % 9 {
		case 0:
			method, path = "POST", "/Users"
		case 1:
			method, path = "POST", "/Groups"
		case 2:
			method, path = "PUT", "/Users/"+uid
		case 3:
			method, path = "PATCH", "/Users/"+uid
		case 4:
			method, path = "PATCH", "/Groups/"+gid
		case 5:
			method, path = "POST", "/Users/.search"
		case 6:
			method, path = "GET", "/Users?filter="+url.QueryEscape(body)+"&sortBy="+url.QueryEscape(body)
		case 7:
			method, path = "PUT", "/Groups/"+gid
		case 8:
			method, path = "GET", "/Groups?attributes="+url.QueryEscape(body)+"&filter="+url.QueryEscape(body)
		}
		var rd io.Reader
		if method != "GET" {
			rd = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, "/scim/v2"+path, rd)
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", method, path, body, rec.Code, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusNoContent && !strings.Contains(ct, "json") {
			t.Fatalf("%s %s: %d with Content-Type %q", method, path, rec.Code, ct)
		}
	})
}
