package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/config"
	"github.com/rosterhq/roster/ldapsync"
)

// buildSources builds the configured LDAP sources (only the one named, when
// name is not empty).
func buildSources(ctx context.Context, a *app, name string) ([]*ldapsync.Source, error) {
	var out []*ldapsync.Source
	for _, c := range a.config().LDAP.Sources {
		if name != "" && c.Name != name {
			continue
		}
		o, err := a.svc.Org(ctx, c.Org)
		if err != nil {
			return nil, fmt.Errorf("ldap source %s: organisation %q: %w", c.Name, c.Org, err)
		}
		s, err := ldapsync.New(c, o.ID, ldapsync.Deps{Service: a.svc, Logger: a.log})
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if name != "" && len(out) == 0 {
		return nil, usageError(fmt.Sprintf("--source %q: no such ldap source in the config", name))
	}
	return out, nil
}

// directoryLeaseTTL bounds how long a process that died during a directory
// run blocks the source's next run: with replicas (PostgreSQL), a lease
// period; on one host, the core's default (a killed process of this host
// is seen to be gone at once).
func directoryLeaseTTL(cfg *config.Config) time.Duration {
	if cfg.Database.Driver == "postgres" {
		return cfg.Cluster.LeaseTTL
	}
	return 0
}

// liveSources are the sources `serve` runs now (the scheduler's, swapped
// on reload): the admin API's sync-now and import use those very sources
// instead of building new ones per call.
type liveSources struct {
	mu      sync.Mutex
	sources map[string]*ldapsync.Source
}

func (l *liveSources) set(srcs []*ldapsync.Source) {
	m := make(map[string]*ldapsync.Source, len(srcs))
	for _, s := range srcs {
		m[s.Name()] = s
	}
	l.mu.Lock()
	l.sources = m
	l.mu.Unlock()
}

func (l *liveSources) get(name string) *ldapsync.Source {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sources[name]
}

// ldapDoor gives the admin API the configured LDAP sources.
type ldapDoor struct {
	a     *app
	live  *liveSources                       // nil: build the source per call
	onRun func(*core.DirectoryReport, error) // metrics; may be nil
}

// ldapSources is the admin API's view of the current sources (a reload
// may add the first one).
func ldapSources(a *app, live *liveSources, onRun func(*core.DirectoryReport, error)) api.LDAPSources {
	return ldapDoor{a: a, live: live, onRun: onRun}
}

func (d ldapDoor) Names(orgID string) []string {
	var out []string
	for _, c := range d.a.config().LDAP.Sources {
		if o, err := d.a.svc.Org(context.Background(), c.Org); err == nil && o.ID == orgID {
			out = append(out, c.Name)
		}
	}
	return out
}

func (d ldapDoor) source(ctx context.Context, orgID, name string) (*ldapsync.Source, error) {
	if s := d.live.get(name); s != nil {
		if s.OrgID() != orgID {
			return nil, &core.NotFoundError{Kind: "ldap source", Key: name}
		}
		return s, nil
	}
	srcs, err := buildSources(ctx, d.a, name)
	if err != nil || len(srcs) == 0 || srcs[0].OrgID() != orgID {
		return nil, &core.NotFoundError{Kind: "ldap source", Key: name}
	}
	return srcs[0], nil
}

func (d ldapDoor) SyncNow(ctx context.Context, orgID, name string, full, dryRun bool) (any, error) {
	src, err := d.source(ctx, orgID, name)
	if err != nil {
		return nil, err
	}
	rep, err := d.a.svc.RunDirectory(ctx, src, core.DirectoryRunOptions{Full: full, DryRun: dryRun})
	if d.onRun != nil {
		d.onRun(rep, err)
	}
	if rep == nil {
		return nil, err
	}
	return rep, err
}

func (d ldapDoor) Import(ctx context.Context, orgID, name, username string) (*core.UserView, error) {
	if len(d.a.config().LDAP.Sources) == 0 {
		return nil, &core.ValidationError{Problems: []core.FieldError{{Field: "ldap_source", Message: "no LDAP source is configured"}}}
	}
	src, err := d.source(ctx, orgID, name)
	if err != nil {
		return nil, err
	}
	u, err := src.Import(ctx, username)
	if errors.Is(err, ldapsync.ErrNotOnDemand) {
		return nil, &core.ValidationError{Problems: []core.FieldError{{Field: "ldap_source", Message: err.Error()}}}
	}
	return u, err
}

func cmdSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "import" {
		return cmdSyncImport(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "run" {
		return usageError("usage: roster sync run [--source NAME] [--full] [--dry-run] [--json] | roster sync import --source NAME --username U")
	}
	var cfgPath string
	fs := newFlags("sync run", stderr, &cfgPath)
	source := fs.String("source", "", "sync only this source (default: every source)")
	full := fs.Bool("full", false, "a full sync, even when an incremental one is due")
	dry := fs.Bool("dry-run", false, "show the plan; write nothing")
	asJSON := fs.Bool("json", false, "print one JSON object per source")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	sources, err := buildSources(ctx, a, *source)
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return errors.New("no ldap sources are configured")
	}
	tty := isTerminal(stderr) && !*asJSON
	var reports []*core.DirectoryReport
	failed := false
	for _, s := range sources {
		o := core.DirectoryRunOptions{Full: *full, DryRun: *dry}
		if tty {
			name := s.Name()
			o.Progress = func(p core.DirectoryProgress) {
				fmt.Fprintf(stderr, "\r%s: %s: %d entries read, %d changes applied   ", name, p.Phase, p.EntriesRead,
					p.Counts.Created+p.Counts.Updated+p.Counts.Disabled+p.Counts.Archived+p.Counts.Enabled+p.Counts.Memberships)
			}
		}
		rep, err := a.svc.RunDirectory(ctx, s, o)
		if tty {
			fmt.Fprint(stderr, "\r\033[K")
		}
		if err != nil {
			failed = true
		}
		if *asJSON {
			if err := json.NewEncoder(stdout).Encode(rep); err != nil {
				return err
			}
		}
		reports = append(reports, rep)
	}
	if !*asJSON {
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SOURCE\tMODE\tSTATUS\tREAD\tCREATED\tUPDATED\tDISABLED\tARCHIVED\tENABLED\tUNCHANGED\tCONFLICTS\tERRORS\tSECONDS")
		for _, r := range reports {
			mode := string(r.Mode)
			if r.DryRun {
				mode += " (dry run)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\n", r.Source, mode, r.Status, r.EntriesRead,
				r.Created, r.Updated, r.Disabled, r.Archived, r.Enabled, r.Unchanged, r.Conflicts, r.Errors, r.Duration)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, r := range reports {
			if r.Error != "" {
				fmt.Fprintf(stderr, "roster: source %s: %s\n", r.Source, r.Error)
			}
			for _, p := range r.Problems {
				fmt.Fprintf(stderr, "roster: source %s: %s\n", r.Source, p)
			}
		}
	}
	if failed {
		return errReported
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// cmdSyncImport is "Add an LDAP user" for sources in mode on_demand: it
// looks one user up by username and imports just that user.
func cmdSyncImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfgPath string
	fs := newFlags("sync import", stderr, &cfgPath)
	source := fs.String("source", "", "the ldap source (mode on_demand)")
	username := fs.String("username", "", "the user's username in the directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *source == "" || *username == "" {
		return usageError("usage: roster sync import --source NAME --username U")
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	sources, err := buildSources(ctx, a, *source)
	if err != nil {
		return err
	}
	u, err := sources[0].Import(ctx, *username)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(u)
}

func (d ldapDoor) Search(ctx context.Context, orgID, name, query string, limit int) ([]api.DirectoryEntry, error) {
	src, err := d.source(ctx, orgID, name)
	if err != nil {
		return nil, err
	}
	found, err := src.Search(ctx, query, limit)
	if errors.Is(err, ldapsync.ErrNotOnDemand) {
		return nil, &core.ValidationError{Problems: []core.FieldError{{Field: "ldap_source", Message: err.Error()}}}
	}
	if err != nil {
		return nil, err
	}
	out := make([]api.DirectoryEntry, len(found))
	for i, c := range found {
		out[i] = api.DirectoryEntry(c)
	}
	return out, nil
}
