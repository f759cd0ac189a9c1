package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rosterhq/roster/core"
)

// cmdOrg runs the operator's organisation commands: create, list, rename.
// A new organisation's first owner comes from `roster user create --org NAME
// --role owner` (or its invitation link).
func cmdOrg(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("usage: roster org create|list|rename|set …")
	}
	if args[0] == "set" {
		return cmdOrgSet(ctx, args[1:], stdout, stderr)
	}
	var cfgPath string
	fs := newFlags("org "+args[0], stderr, &cfgPath)
	var name, newName, display, org *string
	var asJSON *bool
	switch args[0] {
	case "create":
		name = fs.String("name", "", "the organisation's name (letters, digits, _)")
		display = fs.String("display-name", "", "the name people see in mails and pages")
	case "list":
		asJSON = fs.Bool("json", false, "print JSON")
	case "rename":
		org = fs.String("org", "", "the organisation to rename")
		newName = fs.String("name", "", "its new name (empty: unchanged)")
		display = fs.String("display-name", "", "its new display name (empty: unchanged)")
	default:
		return usageError("usage: roster org create|list|rename …")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	switch {
	case args[0] == "create" && *name == "":
		return usageError("org create: --name is required")
	case args[0] == "rename" && *org == "":
		return usageError("org rename: --org is required")
	case args[0] == "rename" && *newName == "" && *display == "":
		return usageError("org rename: give --name, --display-name or both")
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	printOrg := func(o *core.Org) error {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(o)
	}
	switch args[0] {
	case "create":
		o, err := a.svc.CreateOrg(ctx, core.CLIActor(), *name, *display)
		if err != nil {
			return err
		}
		return printOrg(o)
	case "rename":
		o, err := a.svc.RenameOrg(ctx, core.CLIActor(), *org, *newName, *display)
		if err != nil {
			return err
		}
		return printOrg(o)
	}
	orgs, err := a.svc.Orgs(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"orgs": orgs})
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISPLAY NAME\tID")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Name, o.DisplayName, o.ID)
	}
	return tw.Flush()
}

// cmdOrgSet changes an organisation's profile (display name, support
// address, catalog URL) and what only the operator sets: the password expiry
// of its administrators. Only the flags given change; an empty value clears.
func cmdOrgSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: roster org set NAME [--display-name S] [--support-email ADDR] [--catalog-url URL] [--admin-password-expiry 90d|never]"
	var cfgPath string
	fs := newFlags("org set", stderr, &cfgPath)
	display := fs.String("display-name", "", "the name people see in mails and pages (empty: the name)")
	support := fs.String("support-email", "", "the address mails and pages give for questions (empty: none)")
	catalog := fs.String("catalog-url", "", "the app catalog the invitation mail links to, an absolute http(s) URL (empty: none)")
	expiry := fs.String("admin-password-expiry", "", "how long administrators' passwords live: a number of days such as 90d, or never")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(usage)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var p core.OrgProfile
	if set["display-name"] {
		p.DisplayName = display
	}
	if set["support-email"] {
		p.SupportEmail = support
	}
	if set["catalog-url"] {
		p.CatalogURL = catalog
	}
	days := -1
	if set["admin-password-expiry"] {
		if days, err = parseDays(*expiry); err != nil {
			return usageError("--admin-password-expiry: " + err.Error())
		}
	}
	if p == (core.OrgProfile{}) && days < 0 {
		return usageError("org set: give --display-name, --support-email, --catalog-url or --admin-password-expiry; " + usage)
	}
	a, err := openApp(ctx, cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	o, err := a.svc.Org(ctx, pos[0])
	if err != nil {
		return err
	}
	if p != (core.OrgProfile{}) {
		if o, err = a.svc.SetOrgProfile(ctx, core.CLIActor(), o.ID, p); err != nil {
			return err
		}
	}
	if days >= 0 {
		if err := a.svc.SetAdminPasswordExpiry(ctx, core.CLIActor(), o.ID, days); err != nil {
			return err
		}
	}
	pol, err := a.svc.PasswordPolicy(ctx, o.ID)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*core.Org
		AdminPasswordExpiryDays int `json:"admin_password_expiry_days"`
	}{o, pol.ExpiryDaysAdmins})
}

// parseDays reads "90d" (or "90") as 90 days, "never" and "0" as 0.
func parseDays(s string) (int, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "never" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || n < 0 || n > 3650 {
		return 0, fmt.Errorf("%q is not a number of days between 0 and 3650 such as 90d, or never", s)
	}
	return n, nil
}
