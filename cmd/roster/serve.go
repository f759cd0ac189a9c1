package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/config"
	"github.com/rosterhq/roster/internal/jobs"
	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/server"
	"github.com/rosterhq/roster/oidc"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sso"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	// SIGHUP reloads; registered first so that an early one does not kill us.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var cfgPath string
	fs := newFlags("serve", stderr, &cfgPath)
	if err := parse(fs, args); err != nil {
		return err
	}
	start := time.Now()
	m := &metrics{}
	a, err := openAppObserved(ctx, cfgPath, stderr, loginObserver{m})
	if err != nil {
		return err
	}
	defer a.close()
	mailr := &mailer{a: a}
	*m = *newMetrics(a, mailr.counters)
	var certs *server.Certificates
	if a.cfg.TLS.Enabled() {
		if certs, err = server.LoadCertificates(a.cfg.TLS.CertFile, a.cfg.TLS.KeyFile); err != nil {
			return err
		}
	}
	srv := server.New(server.Config{
		Addr:              a.cfg.Listen,
		ReadHeaderTimeout: a.cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       a.cfg.HTTP.ReadTimeout,
		WriteTimeout:      a.cfg.HTTP.WriteTimeout,
		IdleTimeout:       a.cfg.HTTP.IdleTimeout,
		ShutdownTimeout:   a.cfg.HTTP.ShutdownTimeout,
		TLS:               certs,
		TrustedProxies:    a.cfg.TrustedProxyPrefixes(),
		Observe:           m.observeHTTP,
	}, a.store.Ready, a.log)
	renderer, err := mail.NewRenderer()
	if err != nil {
		return err
	}
	mailr.renderer = renderer
	live := &liveSources{}
	adminAPI, err := api.New(api.Config{
		MailPreview: func(orgOf func(*http.Request) (string, error)) http.Handler {
			return mail.NewPreviewHandler(renderer, a.svc, orgOf)
		},
		MailBuiltin:        renderer.Builtin,
		PublicURL:          a.cfg.PublicURL,
		LoginRatePerMinute: a.cfg.Security.LoginRatePerMinute,
		SecureCookies:      strings.HasPrefix(a.cfg.PublicURL, "https://"),
		LDAP:               ldapSources(a, live, m.observeSync),
	}, a.svc, a.log)
	if err != nil {
		return err
	}
	adminAPI.Mount(srv.Router())
	webConsole, err := console.NewConsole(a.svc, core.DefaultOrg, a.log)
	if err != nil {
		return err
	}
	srv.Router().PathPrefix("/console").Handler(webConsole)
	if err := mountMailPages(a, srv.Router()); err != nil {
		return err
	}
	var metricsSrv *metricsListener
	if a.cfg.Metrics.Listen == "" {
		srv.Router().Handle("/metrics", m.Handler()).Methods(http.MethodGet)
	} else if metricsSrv, err = listenMetrics(a.cfg.Metrics.Listen, m.Handler(), a.cfg.HTTP.ReadHeaderTimeout); err != nil {
		return err
	}
	w, err := mailr.prepare(a.cfg.SMTP, a.cfg.PublicURL)
	if err != nil {
		return err
	}
	mailr.swap(ctx, a.cfg.SMTP, w)
	defer mailr.stop()
	scimDoor, err := scim.New(scim.Config{PublicURL: a.cfg.PublicURL}, a.svc, a.log)
	if err != nil {
		return err
	}
	scimDoor.Mount(srv.Router())
	// The OP's signing keys must open with the key encryption key in force
	// (and plain ones are encrypted with it) before anything is served: a
	// missing or wrong key stops the start, it never makes new keys.
	if _, plain, err := a.svc.PrepareOIDCKeys(ctx); err != nil {
		return err
	} else if plain > 0 {
		a.log.Warn("oidc signing keys are stored unencrypted: set oidc.key_encryption_key_file to encrypt them", "keys", plain)
	}
	// Single sign-on through each organisation's own IdP (sso:); it also
	// tells the core which organisations have password sign-in off.
	ssoDoor, err := sso.New(a.cfg.SSO, sso.Options{PublicURL: a.cfg.PublicURL, SecureCookies: strings.HasPrefix(a.cfg.PublicURL, "https://"),
		CSRFToken: api.CSRFToken}, a.svc, a.log)
	if err != nil {
		return err
	}
	ssoDoor.Mount(srv.Router())
	oidcDoor, err := oidc.New(oidc.Config{PublicURL: a.cfg.PublicURL, SecureCookies: strings.HasPrefix(a.cfg.PublicURL, "https://"),
		LoginRatePerMinute: a.cfg.Security.LoginRatePerMinute, SSO: func(org string) (string, string, bool) {
			b, ok := ssoDoor.ButtonFor(org)
			return b.DisplayName, b.StartURL, ok
		}}, a.svc, a.log)
	if err != nil {
		return err
	}
	oidcDoor.Mount(srv.Router())
	// zitadel/oidc logs through slog's default logger: within the door's
	// requests that is the door's logger (component=oidc, secrets redacted).
	slog.SetDefault(slog.New(oidcDoor.LogHandler(a.log.Handler())))
	// A catalog logout, through the OP or the admin API, reaches the apps
	// by back-channel logout.
	a.svc.SetCatalogLogoutListener(oidcDoor)
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	// Of several replicas, one at a time runs each background job and each
	// LDAP source's schedule: the one holding its lease (cluster.lease_ttl).
	jobsCtx, stopJobs := context.WithCancel(ctx)
	elector := jobs.NewElector(a.store, a.svc.LeaseOwner(), a.cfg.Cluster.LeaseTTL, a.log)
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		jobs.RunLeased(jobsCtx, a.log, elector,
			jobs.Job{Name: "dormancy", Every: time.Hour, Run: func(ctx context.Context) (int64, error) {
				n, err := a.svc.RunDormancy(ctx)
				return int64(n), err
			}},
			jobs.Job{Name: "expired-sessions", Every: time.Hour, Run: a.svc.PurgeExpiredSessions},
			jobs.Job{Name: "owner-lock-expiry", Every: time.Minute, Run: a.svc.ExpireOwnerLocks},
			// The OpenID Provider's signing keys rotate on their schedule
			// (checked hourly); expired codes and tokens are purged.
			jobs.Job{Name: "oidc-keys", Every: time.Hour, Run: a.svc.RotateOIDCKeys},
			jobs.Job{Name: "oidc-expired", Every: time.Hour, Run: a.svc.PurgeOIDC},
			// The mail worker resolves queued reset requests before each claim;
			// this drains them too when no SMTP server is configured.
			jobs.Job{Name: "password-reset-requests", Every: time.Minute, Run: func(ctx context.Context) (int64, error) {
				n, err := a.svc.ProcessPasswordResetRequests(ctx)
				return int64(n), err
			}},
		)
	}()
	// On the way out (after the schedules stopped, deferred below): stop
	// the jobs, wait for runs in progress, give the leases up so another
	// replica takes over at once.
	defer func() { stopJobs(); <-jobsDone; elector.Wait() }()
	syncr := &syncer{a: a, onRun: m.observeSync, el: elector, live: live}
	sources, err := buildSources(ctx, a, "")
	if err != nil {
		return err
	}
	syncr.swap(ctx, sources)
	defer syncr.stop()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	if metricsSrv != nil {
		go metricsSrv.serve(a.log)
		defer metricsSrv.close()
		a.log.Info("metrics listening", "metrics_listen", metricsSrv.addr())
	}
	// Ready once the database answers, migrations are applied (openApp) and
	// the listener accepts: what /readyz checks.
	if err := a.store.Ready(ctx); err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	// First run: while the organisation has no owner, a one-time link (in
	// memory, void on restart) creates one. It is logged here only, before
	// "roster ready".
	// An organisation with password sign-in off keeps a way in: warn when
	// its break-glass owners are not active owners.
	ssoDoor.CheckBreakGlass(ctx)
	if link, err := webConsole.SetupLink(ctx, a.cfg.PublicURL); err != nil {
		a.log.Error("first-run setup", "err", err)
	} else if link != "" {
		a.log.Warn("first run: the organisation has no owner; open this one-time link to create one (or run roster user create --role owner)", "setup_url", link)
	}
	scheme := "http"
	if certs != nil {
		scheme = "https"
	}
	a.log.Info("roster ready", "version", version, "listen", ln.Addr().String(), "scheme", scheme, "database", a.cfg.Database.Driver,
		"public_url", a.cfg.PublicURL, "startup", time.Since(start).Round(time.Millisecond))
	notif := newNotifier(a.log)
	notif.notify(sd.SdNotifyReady + "\nSTATUS=serving on " + ln.Addr().String())
	rl := &reloader{a: a, ctx: ctx, mail: mailr, sync: syncr, certs: certs, obs: m}
	var watchdog <-chan time.Time
	if every := notif.watchdogEvery(); every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		watchdog = t.C
	}
	// A reload runs beside the loop, so that the watchdog keeps being pinged
	// while it waits for the mail worker or a sync to stop; a SIGHUP during a
	// reload runs another one after it.
	var reloadDone chan struct{}
	hupAgain := false
	startReload := func() {
		notif.notify(reloadingMessage())
		a.log.Info("SIGHUP: reloading the configuration", "config", cfgPath)
		done := make(chan struct{})
		reloadDone = done
		go func() {
			defer close(done)
			_ = rl.reload() // a rejected config is logged and the old one keeps running
		}()
	}
	stopping := func() {
		if reloadDone != nil {
			<-reloadDone
		}
		a.log.Info("stopped")
	}
	for {
		select {
		case err := <-served:
			notif.notify(sd.SdNotifyStopping)
			stopping()
			return err
		case <-ctx.Done():
			notif.notify(sd.SdNotifyStopping + "\nSTATUS=stopping")
			err := <-served
			stopping()
			return err
		case <-hup:
			if reloadDone != nil {
				hupAgain = true
				continue
			}
			startReload()
		case <-reloadDone:
			reloadDone = nil
			if hupAgain {
				hupAgain = false
				startReload()
				continue
			}
			notif.notify(sd.SdNotifyReady + "\nSTATUS=serving on " + ln.Addr().String())
		case <-watchdog:
			// Ping only while the database answers: a wedged daemon gets restarted.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := a.store.Ready(pctx)
			cancel()
			if err != nil {
				a.log.Warn("watchdog: not pinging, the database does not answer", "err", err)
				continue
			}
			notif.notify(sd.SdNotifyWatchdog)
		}
	}
}

// loginObserver forwards core's login events to the metrics built later.
type loginObserver struct{ m *metrics }

func (o loginObserver) LoginAttempt(x core.LoginOutcome) {
	if o.m.logins != nil {
		o.m.LoginAttempt(x)
	}
}

func cmdMigrate(ctx context.Context, args []string, stderr io.Writer) error {
	var cfgPath string
	fs := newFlags("migrate", stderr, &cfgPath)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	a.close()
	return nil
}

func cmdConfigCheck(args []string, stdout, stderr io.Writer) error {
	var cfgPath string
	fs := newFlags("config check", stderr, &cfgPath)
	if err := parse(fs, args); err != nil {
		return err
	}
	_, err := config.Load(cfgPath)
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(stdout, p.String())
		}
		return errReported
	}
	if err != nil {
		return err
	}
	name := cfgPath
	if name == "" {
		name = "embedded default"
	}
	fmt.Fprintf(stdout, "%s: ok\n", name)
	return nil
}

func cmdUserCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfgPath string
	fs := newFlags("user create", stderr, &cfgPath)
	org := fs.String("org", core.DefaultOrg, "organisation")
	in := core.NewUser{}
	fs.StringVar(&in.Username, "username", "", "username (the email address is recommended)")
	fs.StringVar(&in.Email, "email", "", "email address")
	fs.StringVar(&in.FirstName, "first", "", "first name")
	fs.StringVar(&in.LastName, "last", "", "last name")
	fs.StringVar(&in.Phone, "phone", "", "phone number")
	fs.StringVar(&in.Language, "language", "", "preferred language (en, de, fr, es, …)")
	role := fs.String("role", string(core.RoleMember), "role: owner, admin, user_manager, developer, member")
	fs.BoolVar(&in.CanCreateApps, "can-create-apps", false, "the user may create apps")
	noInvite := fs.Bool("no-invite", false, "create the user active, without an invitation")
	inviteHow := fs.String("invite", "", "mail: queue the invitation mail (default when smtp.host is set); link: print the link for you to send")
	pwStdin := fs.Bool("password-stdin", false, "read the user's password from standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	in.Role = core.Role(*role)
	switch *inviteHow {
	case "", "mail", "link":
	default:
		return usageError(fmt.Sprintf("--invite %q is not mail or link", *inviteHow))
	}
	if *pwStdin {
		b, err := io.ReadAll(io.LimitReader(stdin, 4096))
		if err != nil {
			return fmt.Errorf("read password: %w", err)
		}
		in.Password = strings.TrimRight(string(b), "\r\n")
		if in.Password == "" {
			return errors.New("password: standard input was empty")
		}
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	o, err := a.svc.Org(ctx, *org)
	if err != nil {
		return err
	}
	in.OrgID = o.ID
	switch {
	case *noInvite:
		in.Invite = core.NoInvite
	case *inviteHow == "mail", *inviteHow == "" && a.cfg.SMTP.Host != "":
		in.Invite = core.InviteByMail
	default:
		in.Invite = core.InviteByLink
	}
	res, err := a.svc.CreateUser(ctx, core.CLIActor(), in)
	if err != nil {
		return err
	}
	out := struct {
		*core.UserView
		InviteLink string `json:"invite_link,omitempty"`
	}{UserView: res.User}
	if res.InviteToken != "" {
		out.InviteLink = inviteLink(a.cfg.PublicURL, res.InviteToken)
		fmt.Fprintln(stderr, "roster: send the invite_link to the user; it is valid until", res.User.InviteExpiresAt.Format(time.RFC3339))
	}
	if res.User.InviteReason == core.InviteReasonNoEmail {
		fmt.Fprintln(stderr, "roster: no email: no invitation sent; an admin can set the email once and send the invitation (POST /api/v1/users/{id}/resend-invite)")
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func inviteLink(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/invite/" + token
}

func cmdUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfgPath string
	fs := newFlags("user list", stderr, &cfgPath)
	org := fs.String("org", core.DefaultOrg, "organisation")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	o, err := a.svc.Org(ctx, *org)
	if err != nil {
		return err
	}
	users, err := a.svc.ListUsers(ctx, core.UserQuery{OrgID: o.ID})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"users": users, "total": len(users)})
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tFULL NAME\tEMAIL\tROLE\tSTATUS\tINVITE\tSOURCE")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.FullName, u.Email, u.Role, u.Status, u.InviteStatus, u.Source)
	}
	return tw.Flush()
}

// cmdUserUnlock unlocks a locked user from the host: the way back when the
// only owner is locked (another owner, or the lock's expiry, are the others).
func cmdUserUnlock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfgPath string
	fs := newFlags("user unlock", stderr, &cfgPath)
	org := fs.String("org", core.DefaultOrg, "organisation")
	username := fs.String("username", "", "the locked user")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return usageError("user unlock: --username is required")
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	o, err := a.svc.Org(ctx, *org)
	if err != nil {
		return err
	}
	u, err := a.svc.GetUserByUsername(ctx, o.ID, *username)
	if err != nil {
		return err
	}
	if _, err := a.svc.ChangeStatus(ctx, core.CLIActor(), o.ID, u.ID, core.ActUnlock); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "unlocked %s (%s)\n", u.Username, u.Role)
	return nil
}

func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfgPath string
	fs := newFlags("token create", stderr, &cfgPath)
	org := fs.String("org", core.DefaultOrg, "organisation")
	name := fs.String("name", "", "token name (SCIM users it creates get source scim:NAME)")
	scope := fs.String("scope", "", "scim or admin")
	username := fs.String("user", "", "the user an admin token acts as")
	scimFlags := scimTokenFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := scimFlags.validate(); err != nil {
		return usageError(err.Error())
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	o, err := a.svc.Org(ctx, *org)
	if err != nil {
		return err
	}
	userID := ""
	if *username != "" {
		u, err := a.svc.GetUserByUsername(ctx, o.ID, *username)
		if err != nil {
			return fmt.Errorf("--user: %w", err)
		}
		userID = u.ID
	}
	nt := core.NewToken{Name: *name, Scope: core.TokenScope(*scope), UserID: userID}
	if nt.Scope == core.ScopeSCIM {
		// The operator's SCIM token: admin unless --role-ceiling says more.
		set := scimFlags.settings()
		nt.RoleCeiling, nt.Settings = core.Role(*scimFlags.ceiling), &set
	}
	secret, _, err := a.svc.IssueToken(ctx, core.CLIActor(), o.ID, nt)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}
