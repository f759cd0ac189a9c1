package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/rosterhq/roster/core"
)

// cmdOrg runs the operator's organisation commands: create, list, rename.
// A new organisation's first owner comes from `roster user create --org NAME
// --role owner` (or its invitation link).
func cmdOrg(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("usage: roster org create|list|rename …")
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
