package scim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/scim"
)

// createMany creates n SCIM users directly through the service (fast setup).
func (e *env) createMany(prefix string, n int) []string {
	e.t.Helper()
	ctx := context.Background()
	tok, set, err := e.svc.AuthenticateDirectory(ctx, e.token)
	if err != nil {
		e.t.Fatal(err)
	}
	a := core.Actor{Kind: core.ActorSCIM, ID: tok.ID, Name: tok.Name, Source: "scim:" + tok.Name}
	ids := make([]string, n)
	for i := range ids {
		u, err := e.svc.CreateDirectoryUser(ctx, a, set, e.orgID, core.DirectoryUserInput{
			Username: fmt.Sprintf("%s%05d@example.com", prefix, i), Email: fmt.Sprintf("%s%05d@example.com", prefix, i),
		})
		if err != nil {
			e.t.Fatal(err)
		}
		ids[i] = u.ID
	}
	return ids
}

func memberValues(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

func TestLargeGroupPatchIsOneTransaction(t *testing.T) {
	e := newEnv(t)
	ids := e.createMany("m", 1000)
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Big"})).str("id")

	// One unknown id among 1,000: nothing is added.
	bad := append(append([]string{}, ids[:999]...), "00000000-0000-0000-0000-00000000dead")
	r := e.do("PATCH", "/Groups/"+gid, patch(op("add", "members", memberValues(bad))))
	if r.status != 400 || !strings.Contains(r.str("detail"), "dead") {
		t.Fatalf("unknown member: %d %s", r.status, r.raw)
	}
	if m, _ := e.svc.GroupMembers(context.Background(), e.orgID, gid); len(m) != 0 {
		t.Fatalf("%d members added by a rejected PATCH", len(m))
	}

	start := time.Now()
	r = e.must(200, e.do("PATCH", "/Groups/"+gid+"?excludedAttributes=members", patch(op("add", "members", memberValues(ids)))))
	t.Logf("PATCH adding 1,000 members: %s", time.Since(start))
	if r.str("members") != "<nil>" {
		t.Error("excludedAttributes=members ignored on PATCH response")
	}
	if m, _ := e.svc.GroupMembers(context.Background(), e.orgID, gid); len(m) != 1000 {
		t.Fatalf("%d members, want 1000", len(m))
	}
	if h := e.history(ids[500]); h[len(h)-1].Action != "group.add_member" {
		t.Errorf("no history for a member: %v", h[len(h)-1])
	}
	e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("remove", "members", memberValues(ids[:500])))))
	if m, _ := e.svc.GroupMembers(context.Background(), e.orgID, gid); len(m) != 500 {
		t.Fatalf("%d members after removing 500, want 500", len(m))
	}
	full := e.must(200, e.do("GET", "/Groups/"+gid, nil))
	if n := len(full.body["members"].([]any)); n != 500 {
		t.Errorf("GET returns %d members", n)
	}
	// Replace members entirely (PUT) with the other half.
	e.must(200, e.do("PUT", "/Groups/"+gid, map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Big", "members": memberValues(ids[:500])}))
	m, _ := e.svc.GroupMembers(context.Background(), e.orgID, gid)
	if len(m) != 500 {
		t.Fatalf("%d members after PUT", len(m))
	}
	for _, id := range m {
		if id == ids[700] {
			t.Fatal("PUT kept a member it did not list")
		}
	}
}

func TestConcurrentIdPWorkers(t *testing.T) {
	e := newEnv(t)
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "All"})).str("id")
	var bad atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				un := fmt.Sprintf("w%02d-%02d@example.com", w, i)
				steps := []struct {
					method, path string
					body         any
				}{
					{"GET", "/Users?filter=" + url.QueryEscape(`userName eq "`+un+`"`), nil},
					{"POST", "/Users", user(un, nil)},
				}
				var id string
				for _, s := range steps {
					r := e.do(s.method, s.path, s.body)
					if r.status >= 500 || (r.status != 200 && r.status != 201) {
						bad.Add(1)
						select {
						case errs <- fmt.Sprintf("%s %s: %d %s", s.method, s.path, r.status, r.raw):
						default:
						}
					}
					if s.method == "POST" {
						id = r.str("id")
					}
				}
				for _, s := range []struct {
					method, path string
					body         any
				}{
					{"PATCH", "/Users/" + id, patch(op("replace", "displayName", un))},
					{"PATCH", "/Groups/" + gid, patch(op("add", "members", memberValues([]string{id})))},
					{"GET", "/Users/" + id, nil},
					{"PATCH", "/Users/" + id, patch(op("replace", "active", false))},
				} {
					if r := e.do(s.method, s.path, s.body); r.status != 200 {
						bad.Add(1)
						select {
						case errs <- fmt.Sprintf("%s %s: %d %s", s.method, s.path, r.status, r.raw):
						default:
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Error(s)
	}
	if bad.Load() > 0 {
		t.Fatalf("%d failed requests", bad.Load())
	}
	if m, _ := e.svc.GroupMembers(context.Background(), e.orgID, gid); len(m) != 16*15 {
		t.Errorf("%d members, want %d", len(m), 16*15)
	}
	if strings.Contains(e.logs.String(), "database is locked") {
		t.Error("database is locked in the logs")
	}
}

// slowBody is a request body that blocks until released.
type slowBody struct{ release chan struct{} }

func (b *slowBody) Read(p []byte) (int, error) {
	<-b.release
	return 0, io.EOF
}

// A saturated door answers 503 with Retry-After (busy, like a busy
// database), in the SCIM error format.
func TestOverloadAnswers503(t *testing.T) {
	e := newEnv(t, withConfig(scim.Config{AuthCacheTTL: -1, MaxInFlight: 1, QueueWait: 50 * time.Millisecond}))
	body := &slowBody{release: make(chan struct{})}
	req, _ := http.NewRequest("POST", e.srv.URL+"/scim/v2/Users", body)
	req.Header.Set("Authorization", "Bearer "+e.token)
	done := make(chan int)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	// Wait until the slow request holds the only slot.
	var r resp
	for i := 0; i < 100; i++ {
		r = e.do("GET", "/Users", nil)
		if r.status == 503 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.status != 503 || r.hdr.Get("Retry-After") == "" || dig(r.body, "schemas.0") != scim.URNError {
		t.Fatalf("saturated: %d Retry-After=%q %s", r.status, r.hdr.Get("Retry-After"), r.raw)
	}
	close(body.release)
	if code := <-done; code != 400 {
		t.Errorf("slow request ended with %d, want 400 (empty body)", code)
	}
	e.must(200, e.do("GET", "/Users", nil))
}

func TestLargeGroupListingSkipsMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 50,000 users")
	}
	e := newEnv(t)
	ctx := context.Background()
	ids := e.createManyFast(50000)
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Everyone"})).str("id")
	for i := 0; i < len(ids); i += 5000 {
		e.must(200, e.do("PATCH", "/Groups/"+gid+"?excludedAttributes=members", patch(op("add", "members", memberValues(ids[i:i+5000])))))
	}
	if m, _ := e.svc.GroupMembers(ctx, e.orgID, gid); len(m) != 50000 {
		t.Fatalf("%d members", len(m))
	}
	start := time.Now()
	r := e.must(200, e.do("GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "Everyone"`), nil))
	el := time.Since(start)
	t.Logf("GET /Groups?excludedAttributes=members with a 50,000-member group: %s", el)
	if el > time.Second { // a sanity bound, not a measurement
		t.Errorf("listing a 50,000-member group took %s", el)
	}
	if r.str("Resources.0.members") != "<nil>" || r.str("totalResults") != "1" {
		t.Errorf("%s", r.raw[:min(len(r.raw), 300)])
	}
}

// createManyFast inserts n users in one transaction through the store (the
// setup of the 50,000-member test; SCIM creation is tested elsewhere).
func (e *env) createManyFast(n int) []string {
	e.t.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	now := time.Now().UTC()
	err := e.st.InTx(ctx, func(tx core.Tx) error {
		for i := range ids {
			u := &core.User{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), OrgID: e.orgID, Username: fmt.Sprintf("bulk%06d", i),
				Role: core.RoleMember, Status: core.StatusActive, Source: "scim:okta", InviteState: core.InviteStateNone, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
			ids[i] = u.ID
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

func TestGroupETagsAndHistory(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("member@example.com", nil)
	g := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Ops"}))
	gid, v1 := g.str("id"), g.hdr.Get("ETag")
	if v1 == "" || v1 != g.str("meta.version") {
		t.Fatalf("group ETag %q, meta.version %q", v1, g.str("meta.version"))
	}
	r := e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("add", "members", memberValues([]string{uid}))), "If-Match", v1))
	v2 := r.hdr.Get("ETag")
	if v2 == v1 {
		t.Error("a membership change did not change the group's version")
	}
	e.must(412, e.do("PATCH", "/Groups/"+gid, patch(op("replace", "displayName", "Stale")), "If-Match", v1))
	e.must(412, e.do("DELETE", "/Groups/"+gid, nil, "If-Match", v1))
	if got := e.must(200, e.do("GET", "/Groups/"+gid, nil)); got.str("displayName") != "Ops" {
		t.Errorf("a 412 PATCH renamed the group: %s", got.raw)
	}
	var actions []string
	for _, h := range e.history(uid) {
		if h.Action == "group.add_member" {
			if h.ActorName != "okta" || !strings.Contains(h.After, "Ops") || h.RequestID == "" {
				t.Errorf("membership history %+v", h)
			}
		}
		actions = append(actions, h.Action)
	}
	if !strings.Contains(strings.Join(actions, ","), "group.add_member") {
		t.Errorf("no membership history: %v", actions)
	}
	e.must(204, e.do("DELETE", "/Groups/"+gid, nil, "If-Match", v2))
}
