package argon2id

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretName matches identifiers that hold a secret or its hash.
var secretName = regexp.MustCompile(`(?i)(token|secret|hash|csrf|password|passwd|apikey)`)

// A static check of the whole repository: no secret, token or hash is
// compared with == or != (which returns at the first differing byte).
// Comparisons must go through crypto/subtle (or argon2 verification, or a
// store lookup by hash). Comparing with "" or nil, lengths, and constants
// (prefixes, kinds) are fine.
func TestSecretsAreComparedInConstantTime(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	seen := map[string]bool{}
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "bench") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			be, ok := n.(*ast.BinaryExpr)
			if !ok || (be.Op != token.EQL && be.Op != token.NEQ) {
				return true
			}
			if harmless(be.X) || harmless(be.Y) {
				return true
			}
			expr := exprName(be.X) + " " + be.Op.String() + " " + exprName(be.Y)
			if _, ok := notSecret[filepath.Base(path)+": "+expr]; ok {
				seen[filepath.Base(path)+": "+expr] = true
				return true
			}
			if secretName.MatchString(exprName(be.X)) || secretName.MatchString(exprName(be.Y)) {
				t.Errorf("%s: %s %s %s compares a secret with %s; use crypto/subtle.ConstantTimeCompare",
					fset.Position(be.Pos()), exprName(be.X), be.Op, exprName(be.Y), be.Op)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range notSecret {
		if !seen[k] {
			t.Errorf("allow-list entry %q matches nothing any more: remove it", k)
		}
	}
	if files < 50 {
		t.Fatalf("checked only %d files", files)
	}
}

// notSecret lists comparisons whose names look secret but are not a
// server-held secret checked against attacker input.
var notSecret = map[string]string{
	// The new password and its confirmation, both typed by the same person.
	"invite.go: password != r.PostForm.Get()":             "confirmation field",
	"reset.go: password != r.PostForm.Get()":              "confirmation field",
	"sessions.go: newPassword == oldPassword":             "both supplied by the requester, who knows both",
	"mail_templates.go: kind == MailPasswordReset":        "a mail kind constant",
	"directory_reconcile.go: d.attrHash() != storedAttrs": "a fingerprint of directory attributes, not a secret",
	"directory_reconcile.go: d.ownedHash() != c.Owned":    "a fingerprint of the mapped directory attributes, not a secret",
	"users_provisioned.go: ts[].ID == set.TokenID":        "token ids are public identifiers, not secrets",
}

// harmless operands: literals, nil, constants (upper-case or known names),
// len(...) and other calls that return counts or kinds.
func harmless(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return x.Name == "nil" || x.Name == "true" || x.Name == "false" || (x.Obj != nil && x.Obj.Kind == ast.Con)
	case *ast.SelectorExpr:
		// pkg.Const (core.ScopeSCIM, core.PrefixInvite, …)
		if id, ok := x.X.(*ast.Ident); ok && id.Obj == nil && len(x.Sel.Name) > 0 && x.Sel.Name[0] >= 'A' && x.Sel.Name[0] <= 'Z' {
			return !secretName.MatchString(x.Sel.Name) || strings.HasPrefix(x.Sel.Name, "Prefix") || strings.HasPrefix(x.Sel.Name, "Scope")
		}
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
			return true
		}
	}
	return false
}

func exprName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprName(x.X) + "." + x.Sel.Name
	case *ast.IndexExpr:
		return exprName(x.X) + "[]"
	case *ast.StarExpr:
		return "*" + exprName(x.X)
	case *ast.CallExpr:
		return exprName(x.Fun) + "()"
	case *ast.BasicLit:
		return x.Value
	}
	return ""
}
