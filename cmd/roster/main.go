// Command roster is the user-management daemon and its operator commands.
// This package only parses flags and wires the packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/argon2id"
	"github.com/rosterhq/roster/internal/config"
	"github.com/rosterhq/roster/internal/jobs"
	"github.com/rosterhq/roster/internal/store"
)

// Set with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

const usage = `roster — user management that bridges directories

Usage:
  roster serve [--config FILE]
  roster migrate [--config FILE]
  roster config check [--config FILE]
  roster user create --org ORG --username U --email E --first F --last L [--role R] [--invite mail|link] [--no-invite] [--password-stdin]
  roster user list --org ORG [--json]
  roster user unlock --org ORG --username U
  roster token create --org ORG --name NAME --scope scim|admin [--user USERNAME] [--role-ceiling ROLE]
  roster org create --name NAME [--display-name TEXT]
  roster org list [--json]
  roster org rename --org NAME [--name NEW] [--display-name TEXT]
  roster sync run [--source NAME] [--full] [--dry-run] [--json]
  roster sync import --source NAME --username U
  roster backup [--config FILE] FILE
  roster version

Every command reads --config FILE or $ROSTER_CONFIG; without either it uses the
embedded default (SQLite in ./data/roster.db, listening on 127.0.0.1:8080).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "roster:", err)
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "roster:", err)
		}
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

// errReported means the command already printed what went wrong.
var errReported = errors.New("reported")

// newFlags returns a flag set with --config bound to *cfgPath.
func newFlags(name string, stderr io.Writer, cfgPath *string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // help is the command tree's; a flag error prints the flags (flagError)
	fs.StringVar(cfgPath, "config", os.Getenv("ROSTER_CONFIG"), "config file (default: $ROSTER_CONFIG, else the embedded default)")
	return fs
}

// parseArgs parses flags before, between and after the positional
// arguments (`roster backup FILE --config X` as well as
// `roster backup --config X FILE`) and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	if len(args) == 1 && args[0] == describeFlags {
		return nil, flagsOnly{fs}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(fs, err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func parse(fs *flag.FlagSet, args []string) error {
	if len(args) == 1 && args[0] == describeFlags {
		return flagsOnly{fs}
	}
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}

// flagError is what a parse error of fs becomes: -h and --help ask for
// the command's help; anything else is a usage error, after the flags.
func flagError(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return helpRequested{fs}
	}
	fs.PrintDefaults()
	return usageError(err.Error())
}

func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			return nil, fmt.Errorf("config %s:\n%w", path, err)
		}
		return nil, err
	}
	return cfg, nil
}

// newLogger logs at level, which a reload may change.
func newLogger(c config.Log, level *slog.LevelVar, w io.Writer) *slog.Logger {
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// app is what every store-backed command needs.
type app struct {
	// cfg is the configuration the process started with: what cannot
	// change live (listen, database, …) is read from it.
	cfg     *config.Config
	cfgPath string
	// live is the current configuration (serve's SIGHUP replaces it): LDAP
	// sources, SMTP, log level and TLS certificate are read from it.
	live  atomic.Pointer[config.Config]
	level *slog.LevelVar
	log   *slog.Logger
	store *store.Store
	svc   *core.Service
}

// config is the current configuration.
func (a *app) config() *config.Config { return a.live.Load() }

// openApp loads the config, opens and migrates the store, and builds the service.
func openApp(ctx context.Context, cfgPath string, stderr io.Writer) (*app, error) {
	return openAppObserved(ctx, cfgPath, stderr, nil)
}

// openAppObserved is openApp with an observer of core's events (metrics).
func openAppObserved(ctx context.Context, cfgPath string, stderr io.Writer, obs core.Observer) (*app, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	level := new(slog.LevelVar)
	log := newLogger(cfg.Log, level, stderr)
	st, err := store.Open(ctx, store.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, MaxReaders: cfg.Database.MaxReaders, BusyTimeout: cfg.Database.BusyTimeout,
		MaxOpenConns: cfg.Database.MaxOpenConns, MaxIdleConns: cfg.Database.MaxIdleConns,
		ConnMaxLifetime: cfg.Database.ConnMaxLifetime, ConnMaxIdleTime: cfg.Database.ConnMaxIdleTime}, log)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	svc, err := core.NewService(core.Config{
		InviteValidFor:   cfg.Invites.ValidFor,
		LockoutThreshold: cfg.Security.LockoutThreshold,
		DormancyAfter:    cfg.Dormancy.After,
		SessionTTL:       cfg.Security.SessionTTL,
		OwnerLockExpiry:  cfg.Security.OwnerLockExpiry,

		MaxConcurrentHashes: cfg.Security.MaxConcurrentHashes,
		HashQueueWait:       cfg.Security.HashQueueWait,
	}, core.Deps{Store: st, Hasher: argon2id.NewArgon2(argon2id.Argon2Params{}), Logger: log, Observer: obs,
		LeaseOwnerGone: jobs.OwnerGone, DirectoryLeaseTTL: directoryLeaseTTL(cfg), OIDCKeyEncryptionKey: cfg.OIDC.KeyEncryptionKey})
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &app{cfg: cfg, cfgPath: cfgPath, level: level, log: log, store: st, svc: svc}
	a.live.Store(cfg)
	return a, nil
}

func (a *app) close() {
	if err := a.store.Close(); err != nil {
		a.log.Error("close database", "err", err)
	}
}
