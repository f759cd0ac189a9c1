package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"
)

// The command tree is cobra's (help on every command, shell completion);
// each command keeps its own flag.FlagSet, so flags go before, between or
// after the arguments as they always did: cobra finds the command and
// hands it the rest unparsed.

// helpRequested is a command's answer to -h or --help: the tree prints its
// help (to stdout, exit 0).
type helpRequested struct{ fs *flag.FlagSet }

func (helpRequested) Error() string { return "help requested" }

// flagsOnly is a command's answer to describeFlags: its flag set, parsed
// from nothing and nothing done (for help and completion).
type flagsOnly struct{ fs *flag.FlagSet }

func (flagsOnly) Error() string { return "flags described" }

// describeFlags, as a command's only argument, asks it for its flag set.
const describeFlags = "\x00roster-describe-flags"

// runFunc runs one command with its arguments (flags included).
type runFunc func(ctx context.Context, args []string) error

// leaf is a command: cobra routes to it; it parses its own flags, which
// cobra learns (for help and completion) by asking it to describe them.
func leaf(use, short string, run runFunc) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, DisableFlagParsing: true}
	var fo flagsOnly
	if errors.As(run(context.Background(), []string{describeFlags}), &fo) {
		c.Flags().AddGoFlagSet(fo.fs)
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		err := run(cmd.Context(), args)
		var hr helpRequested
		if errors.As(err, &hr) {
			return cmd.Help()
		}
		return ours(err)
	}
	// Arguments that are not flags are files (backup FILE) or values.
	c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return c
}

// group is a command with subcommands; without one it is a usage error.
func group(use, short, usageLine string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return ours(usageError(fmt.Sprintf("unknown command %q; %s", args[0], usageLine)))
			}
			return ours(usageError(usageLine))
		}}
	c.AddCommand(subs...)
	return c
}

// newCLI builds the command tree for one run.
func newCLI(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "roster",
		Short: "user management that bridges directories",
		Long: `roster — user management that bridges directories.

Every command reads --config FILE or $ROSTER_CONFIG; without either it uses the
embedded default (SQLite in ./data/roster.db, listening on 127.0.0.1:8080).
Flags may come before or after a command's arguments. Exit status: 0 done,
1 failed (the error is printed), 2 usage error (unknown command or flag,
missing argument).`,
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	showVersion := root.Flags().BoolP("version", "v", false, "print the version")
	printVersion := func() { fmt.Fprintf(stdout, "roster %s (commit %s, %s)\n", version, commit, runtime.Version()) }
	root.RunE = func(_ *cobra.Command, args []string) error {
		switch {
		case *showVersion:
			printVersion()
			return nil
		case len(args) == 0:
			return ours(usageError("a command is required"))
		}
		return ours(usageError(fmt.Sprintf("unknown command %q", args[0])))
	}
	sub := func(name string, run func(context.Context, []string, io.Writer, io.Writer) error) runFunc {
		return func(ctx context.Context, args []string) error {
			return run(ctx, append([]string{name}, args...), stdout, stderr)
		}
	}
	root.AddCommand(
		leaf("serve", "run the daemon: the admin API, SCIM, the console, LDAP syncs and jobs",
			func(ctx context.Context, args []string) error { return cmdServe(ctx, args, stderr) }),
		leaf("migrate", "apply the database migrations and exit",
			func(ctx context.Context, args []string) error { return cmdMigrate(ctx, args, stderr) }),
		group("config", "check the configuration file", "usage: roster config check [--config FILE]",
			leaf("check", "print every problem in the configuration file",
				func(_ context.Context, args []string) error { return cmdConfigCheck(args, stdout, stderr) })),
		group("user", "create, list and unlock users", "usage: roster user create|list|unlock …",
			leaf("create", "create a user (an owner: --role owner, its password from --password-stdin)",
				func(ctx context.Context, args []string) error { return cmdUserCreate(ctx, args, stdin, stdout, stderr) }),
			leaf("list", "list an organisation's users",
				func(ctx context.Context, args []string) error { return cmdUserList(ctx, args, stdout, stderr) }),
			leaf("unlock", "unlock a locked user",
				func(ctx context.Context, args []string) error { return cmdUserUnlock(ctx, args, stdout, stderr) })),
		group("token", "create API tokens", "usage: roster token create …",
			leaf("create", "create a SCIM token or an admin token acting as --user",
				func(ctx context.Context, args []string) error { return cmdTokenCreate(ctx, args, stdout, stderr) })),
		group("org", "create, list, rename and set up organisations", "usage: roster org create|list|rename|set …",
			leaf("create", "create an organisation", sub("create", cmdOrg)),
			leaf("list", "list the organisations", sub("list", cmdOrg)),
			leaf("rename", "rename an organisation or change its display name", sub("rename", cmdOrg)),
			leaf("set NAME", "set an organisation's display name, support address, catalog URL and administrators' password expiry", sub("set", cmdOrg))),
		group("sync", "run LDAP syncs and import directory users", "usage: roster sync run [--source NAME] [--full] [--dry-run] [--json] | roster sync import --source NAME --username U",
			leaf("run", "run an LDAP/AD sync now", sub("run", cmdSync)),
			leaf("import", "import one user of an on_demand source", sub("import", cmdSync))),
		leaf("backup FILE", "write a consistent copy of the SQLite database to FILE (while serve runs)",
			func(ctx context.Context, args []string) error { return cmdBackup(ctx, args, stdout, stderr) }),
		&cobra.Command{Use: "version", Short: "print the version", Args: cobra.NoArgs,
			Run: func(*cobra.Command, []string) { printVersion() }},
	)
	// completion bash|zsh|fish|powershell; any other shell is a usage error.
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return ours(usageError(fmt.Sprintf("unknown shell %q; roster completion bash|zsh|fish|powershell", args[0])))
			}
			return ours(usageError("roster completion bash|zsh|fish|powershell"))
		}
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root
}

// cmdError is an error of a command (not of cobra's parsing).
type cmdError struct{ err error }

func (e cmdError) Error() string { return e.err.Error() }

func ours(err error) error {
	if err == nil {
		return nil
	}
	return cmdError{err}
}

// run runs one command line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	root := newCLI(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ce cmdError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return ce.err
	}
	// cobra's own refusals (an unknown flag of a group, extra arguments, a
	// shell completion does not know) are usage errors.
	return usageError(err.Error())
}
