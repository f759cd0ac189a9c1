package core_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

// A template that does not parse, uses a variable its kind does not have or
// fails when it runs is refused in words: the part, the line, what is wrong
// and, for a variable, the ones the kind has (the list the editor shows).
func TestMailTemplateErrorsInWords(t *testing.T) {
	known := func(k core.MailKind) string {
		var names []string
		for _, v := range core.MailVariables(k) {
			names = append(names, v.Name)
		}
		return strings.Join(names, ", ")
	}
	for _, tc := range []struct {
		name                string
		kind                core.MailKind
		subject, html, text string
		field, want         string
	}{
		{"unknown variable on line 3", core.MailInvite, "", "<p>Hi</p>\n<p>{{.FirstName}}</p>\n<p>{{.Foo}}</p>", "", "html",
			"line 3: unknown variable {{.Foo}}; known: " + known(core.MailInvite)},
		{"unknown $ variable in a range", core.MailGroupMessage, "", "", "{{range .MessageLines}}\n{{.}} {{$.Password}}{{end}}", "text",
			"line 2: unknown variable {{$.Password}}; known: " + known(core.MailGroupMessage)},
		{"a link variable in a message", core.MailGroupMessage, "Hi {{.Link}}", "", "", "subject", "line 1: unknown variable {{.Link}}"},
		{"unclosed action", core.MailInvite, "", "", "Hello\n{{.FirstName", "text", "line 2: does not parse: unclosed action"},
		{"unknown function", core.MailInvite, "{{shout .FirstName}}", "", "", "subject", `line 1: does not parse: function "shout" not defined`},
		{"branches that leave an attribute open", core.MailInvite, "", "<p>\n<a href=\"{{.Link}}\n{{if .FirstName}}\">x</a>{{end}}", "", "html",
			"line 3: does not render: {{if}} branches end in different places of the HTML (one inside a tag, an attribute or a URL, the other not)"},
		{"a field of a string", core.MailGroupMessage, "", "<ul>\n{{range .MessageLines}}<li>{{.Len}}</li>{{end}}</ul>", "", "html",
			"line 2: does not render: {{.Len}}: can't evaluate field Len in type string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := core.CheckMailParts(tc.kind, "en", tc.subject, tc.html, tc.text)
			var ve *core.ValidationError
			if !errors.As(err, &ve) || ve.Field() != tc.field {
				t.Fatalf("err %v, want a validation error of %s", err, tc.field)
			}
			if got := ve.Problems[0].Message; !strings.HasPrefix(got, tc.want) {
				t.Errorf("message %q, want it to start %q", got, tc.want)
			}
		})
	}
	if err := core.CheckMailParts(core.MailInvite, "en", "Hi {{.FirstName}}", "<p style=\"color: red\">{{.Link}}</p>", ""); err != nil {
		t.Errorf("a good template: %v", err)
	}
}
