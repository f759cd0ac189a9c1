package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BenchmarkDashboard measures a full load of the users dashboard in headless
// Chromium with 10,000 users (imported through the API): from reload to the
// first page of 25 rows (ms/rows) and to the header counts drawn too
// (ms/load). Run it with
//
//	go test ./console/e2e/ -run '^$' -bench Dashboard -benchtime 20x
func BenchmarkDashboard(b *testing.B) {
	const users = 10000
	br := newBrowser(b)
	d := startRoster(b, b.TempDir(), "")
	tok := strings.TrimPrefix(d.setupLink(b), d.base+"/console/setup?token=")
	form := url.Values{"token": {tok}, "username": {"owner@example.com"}, "email": {"owner@example.com"},
		"password": {"Bench-marks-are-fun-1"}, "confirm": {"Bench-marks-are-fun-1"}}
	res, err := http.PostForm(d.base+"/console/setup", form)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("setup: %v %v", res.Status, err)
	}
	res.Body.Close()
	api := d.call(b, "POST", "/api/v1/auth/login", "", `{"username":"owner@example.com","password":"Bench-marks-are-fun-1"}`)["token"].(string)
	var csv strings.Builder
	csv.WriteString("username,email,first_name,last_name,phone\n")
	for i := range users {
		fmt.Fprintf(&csv, "user%05d@example.com,user%05d@example.com,First%d,Last%05d,+4930%07d\n", i, i, i, i, i)
	}
	req, _ := http.NewRequest("POST", d.base+"/api/v1/users/import?dry_run=false&send_invite=false", strings.NewReader(csv.String()))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+api)
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("import: %v %v", res.Status, err)
	}
	res.Body.Close()
	br.do("login",
		chromedp.Navigate(d.base+"/console/"),
		chromedp.WaitVisible(css("#login-username")),
		chromedp.SendKeys(css("#login-username"), "owner@example.com"),
		chromedp.SendKeys(css("#login-password"), "Bench-marks-are-fun-1\r"),
		chromedp.WaitVisible(css("#users-table")),
	)
	ready := fmt.Sprintf(`document.querySelectorAll('#users-table tbody tr[data-username]').length === 25 && document.querySelector('.count-all .n').textContent.replace(/\D/g, '') === '%d'`, users+1)
	br.wait("first load", ready)
	rows := `document.querySelectorAll('#users-table tbody tr[data-username]').length === 25`
	b.ResetTimer()
	var toRows, toAll time.Duration
	for range b.N {
		start := time.Now()
		br.do("reload", chromedp.Reload())
		br.wait("rows", rows)
		toRows += time.Since(start)
		br.wait("dashboard", ready)
		toAll += time.Since(start)
	}
	b.ReportMetric(float64(toRows.Milliseconds())/float64(b.N), "ms/rows")
	b.ReportMetric(float64(toAll.Milliseconds())/float64(b.N), "ms/load")
}
