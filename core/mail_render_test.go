package core_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// doublingTemplate is about 2 KB and renders 64 B × 2^levels (64 MiB at 20).
func doublingTemplate(levels int) string {
	var b strings.Builder
	b.WriteString(`{{define "t0"}}` + strings.Repeat("x", 64) + `{{end}}`)
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, `{{define "t%d"}}{{template "t%d"}}{{template "t%d"}}{{end}}`, i, i-1, i-1)
	}
	fmt.Fprintf(&b, `{{template "t%d"}}`, levels)
	return b.String()
}

func TestRenderMailIsBounded(t *testing.T) {
	manyVars := strings.Repeat(`{{$v := 1}}`, core.MaxMailVariables+1)
	printfDoubling := `{{$a := printf "%s%s" .Message .Message}}`
	for i := 0; i < 12; i++ {
		printfDoubling += `{{$a = printf "%s%s" $a $a}}`
	}
	for _, tc := range []struct {
		name    string
		html    bool
		src     string
		wantErr string // "" for a template that renders
	}{
		{name: "a plain template", src: "Hello {{.FirstName}}, {{range .MessageLines}}{{.}}\n{{end}}"},
		{name: "a few nested templates", src: doublingTemplate(4)},
		{name: "nested templates doubling to 64 MiB (text)", src: doublingTemplate(20), wantErr: "steps"},
		{name: "nested templates doubling to 64 MiB (html)", html: true, src: doublingTemplate(20), wantErr: "steps"},
		{name: "doubling to 2 MiB within the steps", src: doublingTemplate(15), wantErr: "renders to more than"},
		{name: "doubling that writes nothing", src: strings.ReplaceAll(doublingTemplate(40), strings.Repeat("x", 64), ""), wantErr: "steps"},
		{name: "a template calling itself", src: `{{define "r"}}x{{template "r"}}{{end}}{{template "r"}}`, wantErr: "calls itself"},
		{name: "a long literal range", src: `{{range 100000000}}x{{end}}`, wantErr: "steps"},
		{name: "nested ranges over data", src: `{{range $.MessageLines}}{{range $.MessageLines}}{{range $.MessageLines}}x{{end}}{{end}}{{end}}`, wantErr: "steps"},
		{name: "a huge printf width", src: `{{printf "%0999999999d" 1}}`, wantErr: "at most 9999"},
		{name: "a printf width from an argument", src: `{{printf "%*d" 999999999 1}}`, wantErr: "not allowed"},
		{name: "printf doubling into a variable", src: printfDoubling, wantErr: "function result is over"},
		{name: "html escaping grows a string", src: printfDoubling[:strings.Index(printfDoubling, "}}")+2] + strings.Repeat(`{{$a = html $a $a}}`, 8), wantErr: "function result is over"},
		{name: "too many variables", src: manyVars, wantErr: "variables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			html, text := "<p>hi</p>", "hi"
			field := "text"
			if tc.html {
				html, field = tc.src, "html"
			} else {
				text = tc.src
			}
			start := time.Now()
			m, err := core.RenderMail("Subject", html, text, core.SampleMailData("en"))
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s", d)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Text) == 0 {
					t.Fatal("empty render")
				}
				return
			}
			var ve *core.ValidationError
			if !errors.As(err, &ve) || ve.Field() != field || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want a validation error of %s naming %q", err, field, tc.wantErr)
			}
		})
	}
}
