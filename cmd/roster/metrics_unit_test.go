package main

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Labels stay bounded whatever clients send, and SCIM requests are named
// by their RFC 7644 operation.
func TestHTTPObservationLabels(t *testing.T) {
	m := newMetrics(&app{}, func() mailCounters { return mailCounters{} })
	for _, tt := range []struct{ route, method string }{
		{"/scim/v2/Users", "POST"}, {"/scim/v2/Users", "GET"}, {"/scim/v2/Users/{id}", "GET"}, {"/scim/v2/Users/{id}", "PATCH"},
		{"/scim/v2/Groups/{id}", "PUT"}, {"/scim/v2/Groups/{id}", "DELETE"}, {"/scim/v2/Users/.search", "POST"},
		{"unmatched", "BREW"}, {"unmatched", "X-EVIL-1"},
	} {
		m.observeHTTP(tt.route, tt.method, 200, time.Millisecond)
	}
	reg := prometheus.NewPedanticRegistry() // without the store-reading collector
	reg.MustRegister(m.httpRequests, m.scimOps)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range fams {
		switch f.GetName() {
		case "roster_scim_operations_total":
			for _, mt := range f.Metric {
				l := map[string]string{}
				for _, p := range mt.Label {
					l[p.GetName()] = p.GetValue()
				}
				got[l["resource"]+" "+l["operation"]] = true
			}
		case "roster_http_requests_total":
			for _, mt := range f.Metric {
				for _, p := range mt.Label {
					if p.GetName() == "method" {
						got["method "+p.GetValue()] = true
					}
				}
			}
		}
	}
	for _, want := range []string{"Users create", "Users list", "Users get", "Users patch", "Groups replace", "Groups delete", "Users search", "method other"} {
		if !got[want] {
			t.Errorf("missing %q in %v", want, got)
		}
	}
	for _, bad := range []string{"method BREW", "method X-EVIL-1"} {
		if got[bad] {
			t.Errorf("unbounded label %q", bad)
		}
	}
}
