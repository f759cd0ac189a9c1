package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Slow clients — a misbehaving IdP or a slowloris — hold connections open
// sending headers or a body a byte at a time. The real binary with its
// http timeouts closes them (read_header_timeout, read_timeout) while
// other clients are served promptly throughout.
func TestSlowClientsDoNotStarveOthers(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n"+
		"http: {read_header_timeout: 500ms, read_timeout: 2s}\n")
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim", "--invite=false")
	if r.code != 0 {
		t.Fatalf("token: %s", r.stderr)
	}
	token := strings.TrimSpace(r.stdout)
	d := startServe(t, dir, "--config", cfg)
	addr := strings.TrimPrefix(d.base, "http://")

	const slowHeaders, slowBodies = 150, 50
	var wg sync.WaitGroup
	closedAfter := make(chan time.Duration, slowHeaders+slowBodies)
	slow := func(first string, drip string) {
		defer wg.Done()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		start := time.Now()
		if _, err := io.WriteString(c, first); err != nil {
			closedAfter <- time.Since(start)
			return
		}
		// Drip one byte every 100 ms for up to 10 s; the server must cut us off.
		for time.Since(start) < 10*time.Second {
			time.Sleep(100 * time.Millisecond)
			if _, err := io.WriteString(c, drip); err != nil {
				break
			}
			_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				break // closed by the server (EOF or reset), perhaps after a 408
			}
		}
		closedAfter <- time.Since(start)
	}
	for i := 0; i < slowHeaders; i++ {
		wg.Add(1)
		go slow("POST /scim/v2/Users HTTP/1.1\r\nHost: roster\r\n", "X")
	}
	for i := 0; i < slowBodies; i++ {
		wg.Add(1)
		go slow("POST /scim/v2/Users HTTP/1.1\r\nHost: roster\r\nAuthorization: Bearer "+token+
			"\r\nContent-Type: application/scim+json\r\nContent-Length: 100000\r\n\r\n{", " ")
	}
	time.Sleep(200 * time.Millisecond) // the slow ones are connected
	// Meanwhile, ordinary requests: every one answers fast.
	var worst time.Duration
	for i := 0; i < 40; i++ {
		start := time.Now()
		req, _ := http.NewRequest("POST", d.base+"/scim/v2/Users", strings.NewReader(fmt.Sprintf(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fast%d@example.com"}`, i)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			t.Fatalf("an ordinary request while slow clients hang on: %d %s", res.StatusCode, b)
		}
		worst = max(worst, time.Since(start))
		time.Sleep(25 * time.Millisecond)
	}
	wg.Wait()
	close(closedAfter)
	var longest time.Duration
	n := 0
	for d := range closedAfter {
		n++
		longest = max(longest, d)
	}
	if n != slowHeaders+slowBodies || longest > 4*time.Second {
		t.Errorf("%d slow connections; the longest was held %v (read_timeout 2s)", n, longest)
	}
	if worst > time.Second {
		t.Errorf("the slowest ordinary request took %v with %d slow clients connected", worst, slowHeaders+slowBodies)
	}
	t.Logf("%d slow clients cut off within %v; 40 ordinary SCIM creates meanwhile, slowest %v", n, longest.Round(time.Millisecond), worst.Round(time.Millisecond))
	if code, _ := get(t, d.base+"/readyz"); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	d.stop(t)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
