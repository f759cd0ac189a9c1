package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rosterhq/roster/core"
)

// metrics are the daemon's Prometheus metrics, on its own registry (never
// the global one). Events are counted where they happen (the HTTP
// middleware, the sync scheduler, core's Observer for logins); gauges that
// describe stored state (users by status, the mail outbox, the last good
// sync) are read from the store at scrape time, so that every replica and
// the CLI's work show.
type metrics struct {
	reg *prometheus.Registry
	a   *app

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	scimOps      *prometheus.CounterVec
	syncRuns     *prometheus.CounterVec
	syncDuration *prometheus.HistogramVec
	syncChanges  *prometheus.CounterVec
	syncFailures *prometheus.CounterVec
	logins       *prometheus.CounterVec
	reloads      *prometheus.CounterVec

	mail func() mailCounters // this process's delivery counters
}

type mailCounters struct{ sent, failed, retried uint64 }

func newMetrics(a *app, mail func() mailCounters) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), a: a, mail: mail}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_http_requests_total",
		Help: "HTTP requests by route pattern, method and status code."}, []string{"route", "method", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "roster_http_request_duration_seconds",
		Help: "HTTP request latency by route pattern and method.", Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	m.scimOps = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_scim_operations_total",
		Help: "SCIM operations by resource type, operation and status code."}, []string{"resource", "operation", "code"})
	m.syncRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_ldap_sync_runs_total",
		Help: "LDAP sync runs in this process by source and final status."}, []string{"source", "status"})
	m.syncDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "roster_ldap_sync_duration_seconds",
		Help: "LDAP sync run duration by source.", Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600}}, []string{"source"})
	m.syncChanges = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_ldap_sync_changes_total",
		Help: "Users changed by LDAP sync runs, by source and change (created, updated, disabled, archived, enabled)."}, []string{"source", "change"})
	m.syncFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_ldap_sync_failures_total",
		Help: "LDAP sync runs that failed or were aborted by a guard, by source."}, []string{"source"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_logins_total",
		Help: "Password logins by outcome: success, failure, lockout (the failure that locked the account)."}, []string{"outcome"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_config_reloads_total",
		Help: "Configuration reloads (SIGHUP) by result: applied or rejected."}, []string{"result"})
	for _, o := range []core.LoginOutcome{core.LoginSuccess, core.LoginFailure, core.LoginLockout} {
		m.logins.WithLabelValues(string(o))
	}
	m.reloads.WithLabelValues("applied")
	m.reloads.WithLabelValues("rejected")
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "roster_build_info", Help: "Version and commit of the running binary."},
		[]string{"version", "commit"})
	info.WithLabelValues(version, commit).Set(1)
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.scimOps, m.syncRuns, m.syncDuration, m.syncChanges, m.syncFailures,
		m.logins, m.reloads, info, stateCollector{m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// observeHTTP is the HTTP server's Observe hook.
func (m *metrics) observeHTTP(route, method string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	method = knownMethod(method)
	m.httpRequests.WithLabelValues(route, method, code).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
	if rest, ok := strings.CutPrefix(route, "/scim/v2/"); ok {
		resource, sub, _ := strings.Cut(rest, "/")
		m.scimOps.WithLabelValues(resource, scimOperation(method, sub), code).Inc()
	}
}

// knownMethod bounds the method label: a client may send any token.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// scimOperation names a SCIM request by RFC 7644's operations.
func scimOperation(method, sub string) string {
	switch {
	case sub == ".search":
		return "search"
	case method == http.MethodGet && sub == "":
		return "list"
	case method == http.MethodGet:
		return "get"
	case method == http.MethodPost:
		return "create"
	case method == http.MethodPut:
		return "replace"
	case method == http.MethodPatch:
		return "patch"
	case method == http.MethodDelete:
		return "delete"
	}
	return strings.ToLower(method)
}

// observeSync counts a finished sync run (scheduled or "sync now").
func (m *metrics) observeSync(rep *core.DirectoryReport, err error) {
	if rep == nil || rep.DryRun || errors.Is(err, core.ErrRunInProgress) {
		return
	}
	m.syncRuns.WithLabelValues(rep.Source, string(rep.Status)).Inc()
	m.syncDuration.WithLabelValues(rep.Source).Observe(rep.Duration)
	for _, c := range []struct {
		k string
		v int
	}{{"created", rep.Created}, {"updated", rep.Updated}, {"disabled", rep.Disabled}, {"archived", rep.Archived}, {"enabled", rep.Enabled}} {
		m.syncChanges.WithLabelValues(rep.Source, c.k).Add(float64(c.v))
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		m.syncFailures.WithLabelValues(rep.Source).Inc()
	}
}

// LoginAttempt implements core.Observer.
func (m *metrics) LoginAttempt(o core.LoginOutcome) { m.logins.WithLabelValues(string(o)).Inc() }

// stateCollector reads stored state at scrape time.
type stateCollector struct{ m *metrics }

var (
	descUsers = prometheus.NewDesc("roster_users", "Users by status, across organisations.", []string{"status"}, nil)
	descQueue = prometheus.NewDesc("roster_mail_queue_depth", "Mails waiting for delivery (queued or being sent).", nil, nil)
	descBox   = prometheus.NewDesc("roster_mail_outbox", "Outbox rows by state.", []string{"state"}, nil)
	descSent  = prometheus.NewDesc("roster_mail_sent_total", "Mails this process delivered.", nil, nil)
	descFail  = prometheus.NewDesc("roster_mail_failed_total", "Mails this process gave up on (permanent refusal or retries exhausted).", nil, nil)
	descRetry = prometheus.NewDesc("roster_mail_retried_total", "Transient delivery failures this process will retry.", nil, nil)
	descLast  = prometheus.NewDesc("roster_ldap_sync_last_success_timestamp_seconds", "When the last successful run of each LDAP source finished (any process).", []string{"source"}, nil)
	descRun   = prometheus.NewDesc("roster_ldap_sync_last_run", "Counts of the last recorded run of each LDAP source.", []string{"source", "status", "count"}, nil)
)

func (stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsers, descQueue, descBox, descSent, descFail, descRetry, descLast, descRun} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	svc := c.m.a.svc
	if counts, err := svc.UserStatusCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(descUsers, err)
	} else {
		for _, st := range []core.Status{core.StatusInvited, core.StatusActive, core.StatusDisabled, core.StatusLocked, core.StatusInactive, core.StatusArchived} {
			ch <- prometheus.MustNewConstMetric(descUsers, prometheus.GaugeValue, float64(counts[st]), string(st))
		}
	}
	if box, err := svc.MailStats(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(descBox, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(box.Queued+box.Sending))
		for _, s := range []struct {
			k string
			v int64
		}{{"queued", box.Queued}, {"sending", box.Sending}, {"sent", box.Sent}, {"failed", box.Failed}, {"cancelled", box.Cancelled}} {
			ch <- prometheus.MustNewConstMetric(descBox, prometheus.GaugeValue, float64(s.v), s.k)
		}
	}
	mc := c.m.mail()
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(mc.sent))
	ch <- prometheus.MustNewConstMetric(descFail, prometheus.CounterValue, float64(mc.failed))
	ch <- prometheus.MustNewConstMetric(descRetry, prometheus.CounterValue, float64(mc.retried))
	for _, src := range c.m.a.config().LDAP.Sources {
		runs, err := svc.SyncRuns(ctx, src.Name, 20)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(descLast, err)
			continue
		}
		for i, run := range runs {
			if i == 0 {
				for _, kv := range []struct {
					k string
					v int
				}{{"created", run.Created}, {"updated", run.Updated}, {"disabled", run.Disabled}, {"archived", run.Archived},
					{"enabled", run.Enabled}, {"conflicts", run.Conflicts}, {"errors", run.Errors}} {
					ch <- prometheus.MustNewConstMetric(descRun, prometheus.GaugeValue, float64(kv.v), src.Name, string(run.Status), kv.k)
				}
			}
			if run.Status == core.RunOK && run.FinishedAt != nil {
				ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, float64(run.FinishedAt.Unix()), src.Name)
				break
			}
		}
	}
}
