package core

import (
	"regexp"
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
// that would not run with sample data too. Each problem names the line
// ("line 3: unknown variable {{.Foo}}; known: FirstName, …"); a part that
// does not parse is refused saying where.
func checkVariables(p *problems, kind MailKind, part, src string) {
	if src == "" {
		return
	}
	t, err := texttemplate.New(part).Funcs(boundedFuncs(&funcBudget{}, true)).Parse(src)
	if err != nil {
		p.add(part, "%s", templateErrorInWords("does not parse", err))
		return
	}
	known := map[string]bool{}
	var names []string
	for _, v := range MailVariables(kind) {
		known[v.Name] = true
		names = append(names, v.Name)
	}
	seen := map[string]bool{}
	var tree *parse.Tree
	report := func(n parse.Node, name, shown string) {
		if !known[name] && !seen[name] {
			seen[name] = true
			p.add(part, "%sunknown variable {{%s}}; known: %s", lineOf(tree, n), shown, strings.Join(names, ", "))
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
				report(a, a.Ident[0], "."+a.Ident[0])
			}
		case *parse.VariableNode:
			if len(a.Ident) > 1 && a.Ident[0] == "$" {
				report(a, a.Ident[1], "$."+a.Ident[1])
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
			tree = x.Tree
			list(x.Tree.Root, true)
		}
	}
}

// lineOf is "line N: " for a node of tree ("" when unknown).
func lineOf(tree *parse.Tree, n parse.Node) string {
	if tree == nil {
		return ""
	}
	loc, _ := tree.ErrorContext(n) // "name:line:col"
	parts := strings.Split(loc, ":")
	if len(parts) < 3 {
		return ""
	}
	return "line " + parts[len(parts)-2] + ": "
}

var (
	// template: html:3: msg, template: html:3:12: msg, html/template:html:3:12: msg
	templateErrRe = regexp.MustCompile(`(?s)^(?:html/)?template: ?[^:]*:(\d+)(?::\d+)?: (.*)$`)
	// executing "html" at <.Foo>: msg
	executingRe = regexp.MustCompile(`(?s)^executing "[^"]*" at <(.*?)>: (.*)$`)
)

// templateErrorInWords is a parse or execution error of Go's template
// packages said for an admin: "line 3: does not parse: unclosed action",
// "line 2: {{.Foo}}: can't evaluate field Foo in type string".
func templateErrorInWords(what string, err error) string {
	m := templateErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return what + ": " + strings.TrimPrefix(strings.TrimPrefix(err.Error(), "html/template: "), "template: ")
	}
	msg := m[2]
	if e := executingRe.FindStringSubmatch(msg); e != nil {
		msg = "{{" + e[1] + "}}: " + e[2]
	}
	// html/template's escaper names its parser states; say what they mean.
	if i := strings.Index(msg, " end in different contexts"); i >= 0 {
		msg = msg[:i] + " end in different places of the HTML (one inside a tag, an attribute or a URL, the other not)"
	}
	return "line " + m[1] + ": " + what + ": " + msg
}
