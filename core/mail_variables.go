package core

import (
	"slices"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// MailVariable is a value a mail template may use, as {{.Name}}.
type MailVariable struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

var (
	commonMailVariables = []MailVariable{
		{"FirstName", "the user's first name"},
		{"LastName", "the user's last name"},
		{"FullName", "the user's first and last name"},
		{"Username", "the user's username"},
		{"Email", "the user's email address"},
		{"OrgName", "the organisation's display name (its name when it has none)"},
		{"SupportEmail", "the organisation's support address (empty when unset)"},
		{"CatalogURL", "the organisation's app catalog URL (empty when unset)"},
		{"Language", "the mail's language tag"},
	}
	linkMailVariables = []MailVariable{
		{"Link", "the single-use link the mail carries"},
		{"ExpiresAt", "when the link expires (a time)"},
		{"ExpiresOn", `when the link expires, as "2006-01-02 15:04 UTC"`},
	}
	messageMailVariables = []MailVariable{
		{"MessageSubject", "the subject the sender wrote"},
		{"Message", "the text the sender wrote"},
		{"MessageLines", "the text split into lines (for the HTML part: {{range .MessageLines}})"},
		{"SenderName", "who sent the message"},
	}
)

// MailVariables lists the variables a template of kind may use.
func MailVariables(kind MailKind) []MailVariable {
	out := slices.Clone(commonMailVariables)
	switch kind {
	case MailInvite:
		out = append(out, linkMailVariables...)
		out = append(out, MailVariable{"ValidDays", "how many days the invitation is valid"})
	case MailPasswordReset:
		out = append(out, linkMailVariables...)
	case MailGroupMessage:
		out = append(out, messageMailVariables...)
		out = append(out, MailVariable{"GroupName", "the group messaged"})
	case MailAppMessage:
		out = append(out, messageMailVariables...)
		out = append(out, MailVariable{"AppName", "the app whose users are messaged"})
	}
	return out
}

// checkVariables refuses a part that uses a variable templates of kind do
// not have: every {{.Name}} where dot is the mail's data ({{range}} and
// {{with}} bodies move dot elsewhere) and every {{$.Name}}, in branches
// that would not run with sample data too. A part that does not parse is
// refused saying where.
func checkVariables(p *problems, kind MailKind, part, src string) {
	if src == "" {
		return
	}
	t, err := texttemplate.New(part).Funcs(boundedFuncs(&funcBudget{}, true)).Parse(src)
	if err != nil {
		p.add(part, "does not parse: %v", err)
		return
	}
	known := map[string]bool{}
	var names []string
	for _, v := range MailVariables(kind) {
		known[v.Name] = true
		names = append(names, v.Name)
	}
	seen := map[string]bool{}
	report := func(name string) {
		if !known[name] && !seen[name] {
			seen[name] = true
			p.add(part, "unknown variable .%s; %s mails have %s", name, kind, strings.Join(names, ", "))
		}
	}
	var node func(n parse.Node, data bool)
	var pipe func(pn *parse.PipeNode, data bool)
	list := func(l *parse.ListNode, data bool) {
		if l != nil {
			for _, n := range l.Nodes {
				node(n, data)
			}
		}
	}
	arg := func(a parse.Node, data bool) {
		switch a := a.(type) {
		case *parse.FieldNode:
			if data {
				report(a.Ident[0])
			}
		case *parse.VariableNode:
			if len(a.Ident) > 1 && a.Ident[0] == "$" {
				report(a.Ident[1])
			}
		case *parse.ChainNode:
			if pn, ok := a.Node.(*parse.PipeNode); ok {
				pipe(pn, data)
			}
		case *parse.PipeNode:
			pipe(a, data)
		}
	}
	pipe = func(pn *parse.PipeNode, data bool) {
		if pn == nil {
			return
		}
		for _, c := range pn.Cmds {
			for _, a := range c.Args {
				arg(a, data)
			}
		}
	}
	node = func(n parse.Node, data bool) {
		switch n := n.(type) {
		case *parse.ListNode:
			list(n, data)
		case *parse.ActionNode:
			pipe(n.Pipe, data)
		case *parse.IfNode:
			pipe(n.Pipe, data)
			list(n.List, data)
			list(n.ElseList, data)
		case *parse.RangeNode:
			pipe(n.Pipe, data)
			list(n.List, false)
			list(n.ElseList, data)
		case *parse.WithNode:
			pipe(n.Pipe, data)
			list(n.List, false)
			list(n.ElseList, data)
		case *parse.TemplateNode:
			pipe(n.Pipe, data)
		}
	}
	for _, x := range t.Templates() {
		if x.Tree != nil {
			// A {{define}}d template is taken to be called with the data ({{template "x" .}}).
			list(x.Tree.Root, true)
		}
	}
}
