package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/config"
	"github.com/rosterhq/roster/internal/jobs"
	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/server"
	"github.com/rosterhq/roster/ldapsync"
)

// syncer runs the LDAP sync scheduler for the current sources; a reload
// restarts it with the new ones.
type syncer struct {
	a     *app
	onRun func(*core.DirectoryReport, error)
	// el holds each source's lease: of several replicas, only the holder
	// runs the source's schedule. nil: every schedule runs here.
	el   *jobs.Elector
	held []<-chan struct{} // the current sources' Holds, done once released
	live *liveSources      // what the admin API's sync-now uses; may be nil

	mu     sync.Mutex
	cancel context.CancelFunc
	sc     *jobs.DirectoryScheduler
	names  []string
}

// swap stops the running scheduler (a sync in progress is cancelled: its
// current batch rolls back and the next run picks up from the watermark)
// and schedules sources under ctx.
func (s *syncer) swap(ctx context.Context, sources []*ldapsync.Source) {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	// A source the new config dropped no longer authenticates its users.
	for _, name := range s.names {
		if !slices.ContainsFunc(sources, func(src *ldapsync.Source) bool { return src.Name() == name }) {
			s.a.svc.RegisterDirectoryAuthenticator("ldap:"+name, nil)
		}
	}
	if s.live != nil {
		s.live.set(sources)
	}
	s.names = s.names[:0]
	for _, src := range sources {
		// Directory users log in by binding to their directory, under roster's rules.
		s.a.svc.RegisterDirectoryAuthenticator("ldap:"+src.Name(), src)
		s.names = append(s.names, src.Name())
	}
	if len(sources) == 0 {
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	dirs := make([]core.DirectorySource, len(sources))
	for i, src := range sources {
		dirs[i] = src
	}
	s.sc = jobs.NewDirectoryScheduler(dirs, s.a.svc.RunDirectory, s.a.log)
	s.sc.OnRun = s.onRun
	if s.el != nil {
		s.held = s.held[:0]
		for _, src := range sources {
			s.held = append(s.held, s.el.Hold(sctx, "ldap:"+src.Name()))
		}
		el := s.el
		s.sc.Gate = func(source string) bool { return el.Held("ldap:" + source) }
		s.sc.Poll = el.TTL() / 6
	}
	s.sc.Start(sctx)
	s.a.log.Info("ldap sync scheduled", "sources", len(sources))
}

// stop cancels the scheduler and waits for its running syncs.
func (s *syncer) stop() {
	s.mu.Lock()
	cancel, sc, held := s.cancel, s.sc, s.held
	s.cancel, s.sc, s.held = nil, nil, nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		sc.Wait()
		// The leases are released before a new schedule may take them again.
		for _, done := range held {
			<-done
		}
	}
}

// reloader applies a new configuration file to a running daemon.
type reloader struct {
	a     *app
	ctx   context.Context // the daemon's: workers started by a reload live until it ends
	mail  *mailer
	sync  *syncer
	certs *server.Certificates // nil without TLS
	obs   *metrics
}

// reload re-reads the config file. A config that does not load, or whose
// SMTP settings, LDAP sources or TLS pair cannot be built, is rejected with
// every reason logged, and the running one stays. Settings that cannot
// change live are reported and kept.
func (r *reloader) reload() error {
	a := r.a
	old := a.config()
	next, err := loadConfig(a.cfgPath)
	var kept []string
	if err == nil {
		// What needs a restart keeps its running value.
		kept = restartOnly(a.cfg, next)
		applyKept(a.cfg, next)
		err = r.check(next)
	}
	if err != nil {
		r.obs.reloads.WithLabelValues("rejected").Inc()
		var ps config.Problems
		if errors.As(err, &ps) {
			reasons := make([]string, len(ps))
			for i, p := range ps {
				reasons[i] = p.String()
			}
			a.log.Error("config reload rejected; the running configuration stays", "config", a.cfgPath, "reasons", reasons)
		} else {
			a.log.Error("config reload rejected; the running configuration stays", "config", a.cfgPath, "reasons", []string{err.Error()})
		}
		return err
	}
	if len(kept) > 0 {
		a.log.Warn("config reload: these settings change only on restart; the running values stay", "keys", kept)
	}
	applied := next

	var changed []string
	var newLevel slog.Level
	_ = newLevel.UnmarshalText([]byte(applied.Log.Level))
	if applied.Log.Level != old.Log.Level {
		changed = append(changed, "log.level")
		// Log this reload at the more verbose of the two levels, then switch.
		if newLevel < a.level.Level() {
			a.level.Set(newLevel)
		}
		defer a.level.Set(newLevel)
	}
	if r.certs != nil && applied.TLS.Enabled() {
		if err := r.certs.Reload(applied.TLS.CertFile, applied.TLS.KeyFile); err != nil {
			a.log.Error("config reload: tls certificate not reloaded; the old one stays", "err", err)
			return err // checked above: the files changed in between
		}
		changed = append(changed, "tls (certificate re-read)")
	}
	if !reflect.DeepEqual(applied.SMTP, old.SMTP) {
		w, err := r.mail.prepare(applied.SMTP, applied.PublicURL)
		if err != nil {
			a.log.Error("config reload: smtp not applied; the old settings stay", "err", err)
			return err // checked above: a ca_file changed in between
		}
		r.mail.swap(r.ctx, applied.SMTP, w)
		changed = append(changed, "smtp")
	}
	a.live.Store(applied)
	if !reflect.DeepEqual(applied.LDAP, old.LDAP) {
		sources, err := buildSources(r.ctx, a, "")
		if err != nil {
			a.log.Error("config reload: ldap sources not applied; the old ones stay", "err", err)
			a.live.Store(old) // checked above; an organisation vanished in between
			return err
		}
		r.sync.swap(r.ctx, sources)
		changed = append(changed, "ldap.sources")
	}
	r.obs.reloads.WithLabelValues("applied").Inc()
	names := make([]string, 0, len(applied.LDAP.Sources))
	for _, s := range applied.LDAP.Sources {
		names = append(names, s.Name)
	}
	a.log.Info("config reloaded", "config", a.cfgPath, "changed", changed, "log_level", applied.Log.Level, "ldap_sources", names)
	return nil
}

// check builds what the new config needs without using it.
func (r *reloader) check(c *config.Config) error {
	var errs []error
	if c.TLS.Enabled() && r.certs != nil {
		if err := server.Check(c.TLS.CertFile, c.TLS.KeyFile); err != nil {
			errs = append(errs, err)
		}
	}
	if c.SMTP.Host != "" {
		if _, err := mail.NewSMTPSender(mail.SMTPConfig{Host: c.SMTP.Host, Port: c.SMTP.Port, TLS: c.SMTP.TLS, Username: c.SMTP.Username,
			Password: c.SMTP.Password, From: c.SMTP.From, Timeout: c.SMTP.Timeout, CAFile: c.SMTP.CAFile}); err != nil {
			errs = append(errs, fmt.Errorf("smtp: %w", err))
		}
	}
	for _, s := range c.LDAP.Sources {
		o, err := r.a.svc.Org(r.ctx, s.Org)
		if err != nil {
			errs = append(errs, fmt.Errorf("ldap source %s: organisation %q: %w", s.Name, s.Org, err))
			continue
		}
		if _, err := ldapsync.New(s, o.ID, ldapsync.Deps{Service: r.a.svc, Logger: r.a.log}); err != nil {
			errs = append(errs, fmt.Errorf("ldap source %s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

// restartOnly lists the keys whose new value differs from the one the
// process started with but cannot be applied live.
func restartOnly(start, next *config.Config) []string {
	var keys []string
	diff := func(key string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			keys = append(keys, key)
		}
	}
	diff("listen", start.Listen, next.Listen)
	diff("metrics.listen", start.Metrics.Listen, next.Metrics.Listen)
	diff("public_url", start.PublicURL, next.PublicURL)
	diff("database", start.Database, next.Database)
	diff("invites", start.Invites, next.Invites)
	diff("security", start.Security, next.Security)
	diff("dormancy", start.Dormancy, next.Dormancy)
	diff("log.format", start.Log.Format, next.Log.Format)
	diff("http", start.HTTP, next.HTTP)
	diff("trusted_proxies", start.TrustedProxies, next.TrustedProxies)
	diff("sso", start.SSO, next.SSO)
	if start.TLS.Enabled() != next.TLS.Enabled() {
		keys = append(keys, "tls (turning HTTPS on or off)")
	}
	slices.Sort(keys)
	return keys
}

// applyKept copies the restart-only settings of start into next.
func applyKept(start, next *config.Config) {
	next.Listen, next.PublicURL, next.Database = start.Listen, start.PublicURL, start.Database
	next.Metrics = start.Metrics
	next.Invites, next.Security, next.Dormancy = start.Invites, start.Security, start.Dormancy
	next.Log.Format, next.HTTP, next.TrustedProxies = start.Log.Format, start.HTTP, start.TrustedProxies
	next.SSO = start.SSO
	if start.TLS.Enabled() != next.TLS.Enabled() {
		next.TLS = start.TLS
	}
}
