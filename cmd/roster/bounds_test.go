package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vmHWM is a process's peak resident set in MiB (/proc/PID/status).
func vmHWM(t *testing.T, pid int) float64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// clientFrom is an HTTP client whose connections come from a local address
// (127.0.0.x), for the per-address login limit.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}
}

// TestConcurrentLoginsAreBoundedInMemory: 60 logins at once, 30 from each of
// two addresses (the per-address limit lets them all through), each an
// argon2id check of 19 MiB. Password hashing runs at most
// security.max_concurrent_hashes at once; the others wait their turn (or are
// answered 503 with Retry-After), so the daemon's peak RSS stays under 400 MB
// (it reached 1.2 GB with every check running at once).
func TestConcurrentLoginsAreBoundedInMemory(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+dir+"/r.db}\n")
	const pw = "Correct-horse-battery-9"
	if r := roster(t, dir, pw+"\n", "user", "create", "--config", cfg, "--username", "owner@example.com", "--email", "owner@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	d := startServe(t, dir, "--config", cfg)
	pid := d.cmd.Process.Pid
	// One login first, so that the baseline includes what a first login loads.
	if code, _ := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", `{"username":"owner@example.com","password":"`+pw+`"}`); code != 200 {
		t.Fatalf("first login: %d", code)
	}
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) // reset VmHWM (best effort)
	base := vmHWM(t, pid)
	body := []byte(`{"username":"owner@example.com","password":"` + pw + `"}`)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	began := time.Now()
	for i := range 60 {
		c := clientFrom("127.0.0." + strconv.Itoa(2+i%2))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := c.Post(d.base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			var m map[string]any
			_ = json.NewDecoder(res.Body).Decode(&m)
			res.Body.Close()
			if res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			mu.Lock()
			codes[res.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	peak := vmHWM(t, pid)
	t.Logf("60 concurrent logins in %s: answers %v; peak RSS %.0f MB (before them %.0f MB)", time.Since(began).Round(time.Millisecond), codes, peak, base)
	for code, n := range codes {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("%d answers %d", n, code)
		}
	}
	if codes[http.StatusOK] == 0 {
		t.Error("no login succeeded")
	}
	if peak > 400 {
		t.Errorf("peak RSS %.0f MB with 60 concurrent logins; want under 400 MB", peak)
	}
}
