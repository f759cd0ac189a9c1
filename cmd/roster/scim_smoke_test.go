package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSCIMThroughTheBinary runs the commands an operator runs: token create
// with SCIM settings, then serve; an IdP request reaches /scim/v2 on the
// configured listener and the settings apply (no invite, role rule).
func TestSCIMThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "roster.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("listen: %s\npublic_url: https://roster.example.com\ndatabase:\n  driver: sqlite\n  dsn: %s\n",
		addr, filepath.Join(dir, "roster.db"))), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"token", "create", "--config", cfg, "--org", "default", "--name", "okta", "--scope", "scim",
		"--invite=false", "--role-rule", "Admins=admin"}, nil, &out, &errOut); err != nil {
		t.Fatalf("token create: %v: %s", err, errOut.String())
	}
	token := strings.TrimSpace(out.String())
	if !strings.HasPrefix(token, "rscim_") || strings.Contains(token, "\n") {
		t.Fatalf("token create printed %q", out.String())
	}
	if err := run(ctx, []string{"token", "create", "--config", cfg, "--name", "x", "--scope", "scim", "--role-rule", "A=god"}, nil, &out, &errOut); err == nil {
		t.Error("an invalid role rule was accepted")
	}
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfg}, nil, &logs, &logs) }()
	base := "http://" + addr + "/scim/v2"
	var res *http.Response
	for i := 0; i < 100; i++ {
		if res, err = http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not start: %v", err)
	}
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"smoke@example.com","emails":[{"value":"smoke@example.com","primary":true}],"roles":[{"value":"Admins"}]}`
	req, _ := http.NewRequest("POST", base+"/Users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var u map[string]any
	_ = json.NewDecoder(res.Body).Decode(&u)
	res.Body.Close()
	ros, _ := u["urn:ietf:params:scim:schemas:extension:roster:2.0:User"].(map[string]any)
	if res.StatusCode != 201 || ros["status"] != "active" || ros["role"] != "admin" {
		t.Fatalf("POST /Users: %d %v", res.StatusCode, u)
	}
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "https://roster.example.com/scim/v2/Users/") {
		t.Errorf("Location %q does not use public_url", loc)
	}
	res, err = http.Get(base + "/Users")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("no token: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the token appears in the server log")
	}
}
