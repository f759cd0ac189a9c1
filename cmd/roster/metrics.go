package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/core/mail"
)

// metricsHandler serves /metrics in the Prometheus text format: the mail
// outbox and worker, and the last run of each LDAP source. (The full set,
// on the official client, is the systemd/metrics issue's.)
func metricsHandler(a *app, worker func() *mail.Worker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		box, err := a.svc.MailStats(r.Context())
		if err != nil {
			http.Error(w, "metrics unavailable", http.StatusServiceUnavailable)
			return
		}
		var ws mail.Stats
		if wk := worker(); wk != nil {
			ws = wk.Stats()
		}
		var b strings.Builder
		_ = mail.WriteMetrics(&b, box, ws)
		if len(a.cfg.LDAP.Sources) > 0 {
			b.WriteString("# HELP roster_ldap_sync_last_run Counts of the last recorded run of each LDAP source.\n# TYPE roster_ldap_sync_last_run gauge\n")
			b.WriteString("# HELP roster_ldap_sync_last_success_timestamp_seconds When the last successful run of each source finished.\n# TYPE roster_ldap_sync_last_success_timestamp_seconds gauge\n")
			for _, c := range a.cfg.LDAP.Sources {
				runs, err := a.svc.SyncRuns(r.Context(), c.Name, 20)
				if err != nil {
					http.Error(w, "metrics unavailable", http.StatusServiceUnavailable)
					return
				}
				for i, run := range runs {
					if i == 0 {
						for _, kv := range []struct {
							k string
							v int
						}{{"created", run.Created}, {"updated", run.Updated}, {"disabled", run.Disabled}, {"archived", run.Archived},
							{"enabled", run.Enabled}, {"conflicts", run.Conflicts}, {"errors", run.Errors}} {
							fmt.Fprintf(&b, "roster_ldap_sync_last_run{source=%q,status=%q,count=%q} %d\n", c.Name, run.Status, kv.k, kv.v)
						}
					}
					if run.Status == "ok" && run.FinishedAt != nil {
						fmt.Fprintf(&b, "roster_ldap_sync_last_success_timestamp_seconds{source=%q} %d\n", c.Name, run.FinishedAt.Unix())
						break
					}
				}
			}
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
	})
}
