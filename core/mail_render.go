package core

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// Bounds of rendering one mail template (an organisation's override: owners
// and admins write them, but they must not be able to take the host's memory
// or time). They hold on save, on preview and on sending.
const (
	// MaxMailRendered bounds each rendered part (subject, html, text).
	MaxMailRendered = 1 << 20
	// MaxMailSteps bounds the actions a part may execute, counted from its
	// parse tree before it runs: each {{template}} call counts the whole
	// template it calls, a {{range}} its body times its iterations (the
	// number when it is a literal, else as many as a group message can have
	// lines). A template that calls itself is refused.
	MaxMailSteps = 1_000_000
	// MaxMailFuncOutput bounds one printf/print/println/html/js/urlquery
	// result, and MaxMailFuncTotal all of them in one part.
	MaxMailFuncOutput = 64 << 10
	MaxMailFuncTotal  = 4 << 20
	// MaxMailVariables bounds the {{$x := …}} declarations of one part.
	MaxMailVariables = 200
	// MailRenderTimeout bounds the time one part renders.
	MailRenderTimeout = 2 * time.Second
)

// unknownRangeLen is how many times a {{range}} over data runs at most: the
// lines of the longest group message.
const unknownRangeLen = MaxMessageBody + 1

// errRenderBound is a render that hit one of the bounds above.
type errRenderBound struct{ msg string }

func (e *errRenderBound) Error() string { return e.msg }

// boundedWriter collects a rendered part up to MaxMailRendered bytes and
// until its deadline.
type boundedWriter struct {
	b        strings.Builder
	deadline time.Time
}

func (w *boundedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > MaxMailRendered {
		return 0, &errRenderBound{fmt.Sprintf("renders to more than %d bytes (the limit is %d KiB)", MaxMailRendered, MaxMailRendered>>10)}
	}
	if time.Now().After(w.deadline) {
		return 0, &errRenderBound{fmt.Sprintf("takes longer than %s to render", MailRenderTimeout)}
	}
	return w.b.Write(p)
}

// funcBudget charges what the string-making functions produce.
type funcBudget struct {
	used     int
	deadline time.Time
}

func (b *funcBudget) charge(n int) error {
	if n > MaxMailFuncOutput {
		return &errRenderBound{fmt.Sprintf("a function result is over %d KiB (the limit of one printf, print, html, js or urlquery)", MaxMailFuncOutput>>10)}
	}
	b.used += n
	if b.used > MaxMailFuncTotal {
		return &errRenderBound{fmt.Sprintf("functions produce more than %d MiB in one part", MaxMailFuncTotal>>20)}
	}
	if time.Now().After(b.deadline) {
		return &errRenderBound{fmt.Sprintf("takes longer than %s to render", MailRenderTimeout)}
	}
	return nil
}

// argsLen is what printing args can produce at most, besides widths.
func argsLen(args []any) int {
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += len(v)
		case []string:
			for _, s := range v {
				n += len(s) + 1
			}
		default:
			n += 64
		}
	}
	return n
}

// checkFormat refuses printf widths and precisions over 4 digits or from
// arguments (%*d), which would make fmt allocate what they say.
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		digits := 0
		for i++; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '*':
				return &errRenderBound{"printf widths from arguments (%*) are not allowed"}
			case c >= '0' && c <= '9':
				digits++
				if digits > 4 {
					return &errRenderBound{"printf widths and precisions are at most 9999"}
				}
				continue
			case c == '.':
				digits = 0
				continue
			case strings.IndexByte("+-# [", c) >= 0 || c == ']':
				continue
			}
			break
		}
	}
	return nil
}

// boundedFuncs replace the builtins that make strings, charging b.
func boundedFuncs(b *funcBudget, escapers bool) map[string]any {
	out := func(s string) (string, error) {
		if err := b.charge(len(s)); err != nil {
			return "", err
		}
		return s, nil
	}
	pre := func(n int) error {
		if n > MaxMailFuncOutput {
			return b.charge(n)
		}
		return nil
	}
	m := map[string]any{
		"printf": func(format string, args ...any) (string, error) {
			if err := checkFormat(format); err != nil {
				return "", err
			}
			if err := pre(len(format) + argsLen(args)); err != nil {
				return "", err
			}
			return out(fmt.Sprintf(format, args...))
		},
		"print": func(args ...any) (string, error) {
			if err := pre(argsLen(args)); err != nil {
				return "", err
			}
			return out(fmt.Sprint(args...))
		},
		"println": func(args ...any) (string, error) {
			if err := pre(argsLen(args)); err != nil {
				return "", err
			}
			return out(fmt.Sprintln(args...))
		},
	}
	if escapers {
		for name, esc := range map[string]func(...any) string{
			"html": texttemplate.HTMLEscaper, "js": texttemplate.JSEscaper, "urlquery": texttemplate.URLQueryEscaper,
		} {
			m[name] = func(args ...any) (string, error) {
				if err := pre(6 * argsLen(args)); err != nil {
					return "", err
				}
				return out(esc(args...))
			}
		}
	}
	return m
}

// checkCost walks the parse trees of one part and refuses one that calls
// itself, declares too many variables, or would execute more than
// MaxMailSteps actions.
func checkCost(trees map[string]*parse.Tree, root string) error {
	memo := map[string]int64{}
	onStack := map[string]bool{}
	vars := 0
	var tree func(name string) (int64, error)
	var node func(n parse.Node) (int64, error)
	list := func(l *parse.ListNode) (int64, error) {
		if l == nil {
			return 0, nil
		}
		var sum int64
		for _, n := range l.Nodes {
			c, err := node(n)
			if err != nil {
				return 0, err
			}
			sum += c
			if sum > MaxMailSteps {
				return sum, nil
			}
		}
		return sum, nil
	}
	pipe := func(p *parse.PipeNode) {
		if p != nil && !p.IsAssign {
			vars += len(p.Decl)
		}
	}
	node = func(n parse.Node) (int64, error) {
		switch n := n.(type) {
		case *parse.ListNode:
			return list(n)
		case *parse.ActionNode:
			pipe(n.Pipe)
			return 1, nil
		case *parse.IfNode:
			a, err := list(n.List)
			if err != nil {
				return 0, err
			}
			b, err := list(n.ElseList)
			return 1 + a + b, err
		case *parse.WithNode:
			pipe(n.Pipe)
			a, err := list(n.List)
			if err != nil {
				return 0, err
			}
			b, err := list(n.ElseList)
			return 1 + a + b, err
		case *parse.RangeNode:
			a, err := list(n.List)
			if err != nil {
				return 0, err
			}
			b, err := list(n.ElseList)
			return 1 + rangeLen(n.Pipe)*(a+1) + b, err
		case *parse.TemplateNode:
			c, err := tree(n.Name)
			return 1 + c, err
		default: // text, comments, break, continue
			return 1, nil
		}
	}
	tree = func(name string) (int64, error) {
		if c, ok := memo[name]; ok {
			return c, nil
		}
		t := trees[name]
		if t == nil || t.Root == nil {
			return 0, nil // an undefined template fails when it runs
		}
		if onStack[name] {
			return 0, &errRenderBound{fmt.Sprintf("template %q calls itself; templates may not recurse", name)}
		}
		onStack[name] = true
		c, err := list(t.Root)
		onStack[name] = false
		if err != nil {
			return 0, err
		}
		memo[name] = min(c, MaxMailSteps+1)
		return memo[name], nil
	}
	c, err := tree(root)
	if err != nil {
		return err
	}
	if c > MaxMailSteps {
		return &errRenderBound{fmt.Sprintf("expands to more than %d steps (nested {{template}} calls or {{range}}s); the limit is %d", MaxMailSteps, MaxMailSteps)}
	}
	if vars > MaxMailVariables {
		return &errRenderBound{fmt.Sprintf("declares %d variables; at most %d are allowed", vars, MaxMailVariables)}
	}
	return nil
}

// rangeLen is how many times a {{range}} over p runs at most.
func rangeLen(p *parse.PipeNode) int64 {
	if p != nil && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
		if num, ok := p.Cmds[0].Args[0].(*parse.NumberNode); ok && num.IsInt {
			return max(0, num.Int64)
		}
	}
	return unknownRangeLen
}

// execBounded parses and runs one part of a mail within the bounds.
func execBounded(name, src string, html bool, data MailData) (string, error) {
	deadline := time.Now().Add(MailRenderTimeout)
	budget := &funcBudget{deadline: deadline}
	w := &boundedWriter{deadline: deadline}
	var trees map[string]*parse.Tree
	var run func() error
	if html {
		t, err := htmltemplate.New(name).Option("missingkey=error").Funcs(boundedFuncs(budget, false)).Parse(src)
		if err != nil {
			return "", errors.New(templateErrorInWords("does not parse", err))
		}
		trees = map[string]*parse.Tree{}
		for _, x := range t.Templates() {
			trees[x.Name()] = x.Tree
		}
		run = func() error { return t.Execute(w, data) }
	} else {
		t, err := texttemplate.New(name).Option("missingkey=error").Funcs(boundedFuncs(budget, true)).Parse(src)
		if err != nil {
			return "", errors.New(templateErrorInWords("does not parse", err))
		}
		trees = map[string]*parse.Tree{}
		for _, x := range t.Templates() {
			trees[x.Name()] = x.Tree
		}
		run = func() error { return t.Execute(w, data) }
	}
	if err := checkCost(trees, name); err != nil {
		return "", err
	}
	if err := run(); err != nil {
		var rb *errRenderBound
		if errors.As(err, &rb) {
			return "", rb
		}
		return "", errors.New(templateErrorInWords("does not render", err))
	}
	if !utf8.ValidString(w.b.String()) {
		return "", errors.New("does not render to valid UTF-8")
	}
	return w.b.String(), nil
}
