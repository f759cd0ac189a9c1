package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// catalogLanguages are the console's languages besides English (the keys).
var catalogLanguages = []string{"de", "fr", "es"}

// jsString is a single- or double-quoted JavaScript string literal.
const jsString = `'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"`

var (
	// tCall is any call of t( or tn( (not a method, not part of a longer name).
	tCall = regexp.MustCompile(`(?:^|[^\w.$])(tn?)\(`)
	// tLiteral is a call whose key (both keys for tn) is a string literal.
	tLiteral  = regexp.MustCompile(`^t\(\s*(` + jsString + `)\s*[,)]`)
	tnLiteral = regexp.MustCompile(`^tn\(\s*(` + jsString + `)\s*,\s*(` + jsString + `)\s*,`)
	// placeholder is a {name} in a sentence.
	placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// unquoteJS decodes a JavaScript string literal (the escapes the console uses).
func unquoteJS(lit string) (string, error) {
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(body) {
			return "", fmt.Errorf("dangling backslash in %s", lit)
		}
		switch body[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '\'', '"', '\\':
			b.WriteByte(body[i])
		case 'u':
			if i+4 >= len(body) {
				return "", fmt.Errorf("short \\u escape in %s", lit)
			}
			r, err := strconv.ParseUint(body[i+1:i+5], 16, 32)
			if err != nil {
				return "", fmt.Errorf("bad \\u escape in %s", lit)
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			return "", fmt.Errorf("unsupported escape \\%c in %s", body[i], lit)
		}
	}
	return b.String(), nil
}

// consoleKeys extracts every key of t()/tn() from the console's scripts, and
// the calls whose key is not a literal (file:line).
func consoleKeys(t *testing.T, dir string) (keys map[string][]string, dynamic []string) {
	t.Helper()
	keys = map[string][]string{}
	files, err := filepath.Glob(filepath.Join(dir, "*.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no console scripts in %s (%v)", dir, err)
	}
	for _, f := range files {
		if filepath.Base(f) == "i18n.js" { // defines t and tn; its examples are comments
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			where := fmt.Sprintf("%s:%d", filepath.Base(f), n+1)
			for _, m := range tCall.FindAllStringSubmatchIndex(line, -1) {
				call := line[m[2]:]
				var lits []string
				if line[m[2]:m[3]] == "tn" {
					if g := tnLiteral.FindStringSubmatch(call); g != nil {
						lits = g[1:]
					}
				} else if g := tLiteral.FindStringSubmatch(call); g != nil {
					lits = g[1:]
				}
				if lits == nil {
					dynamic = append(dynamic, where+": "+strings.TrimSpace(line))
					continue
				}
				for _, lit := range lits {
					k, err := unquoteJS(lit)
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					keys[k] = append(keys[k], where)
				}
			}
		}
	}
	return keys, dynamic
}

// readCatalog decodes a catalog: one object of strings, each key once
// (encoding/json alone would keep the last of two).
func readCatalog(b []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	cat := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
		if _, dup := cat[k]; dup {
			return nil, fmt.Errorf("%q is there twice", k)
		}
		cat[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return cat, nil
}

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// TestI18nCatalogs checks each console catalog against the sentences the
// scripts use: every key translated, no stale key, the same placeholders,
// and every t()/tn() key a literal (so this test sees it).
func TestI18nCatalogs(t *testing.T) {
	keys, dynamic := consoleKeys(t, "static")
	if len(keys) < 50 {
		t.Fatalf("only %d console sentences found: the extraction is broken", len(keys))
	}
	for _, d := range dynamic {
		t.Errorf("t()/tn() with a key that is not a string literal (the catalogs cannot be checked): %s", d)
	}
	used := make([]string, 0, len(keys))
	for k := range keys {
		used = append(used, k)
	}
	sort.Strings(used)
	for _, lang := range catalogLanguages {
		b, err := fs.ReadFile(os.DirFS("static/i18n"), lang+".json")
		if err != nil {
			t.Errorf("%s: no catalog: %v", lang, err)
			continue
		}
		cat, err := readCatalog(b)
		if err != nil {
			t.Errorf("static/i18n/%s.json: %v", lang, err)
			continue
		}
		var missing, stale, empty []string
		for _, k := range used {
			v, ok := cat[k]
			switch {
			case !ok:
				missing = append(missing, k)
			case strings.TrimSpace(v) == "":
				empty = append(empty, k)
			case !slices.Equal(placeholders(k), placeholders(v)):
				t.Errorf("%s: placeholders differ for %q: English %v, %q has %v", lang, k, placeholders(k), v, placeholders(v))
			}
		}
		for k := range cat {
			if _, ok := keys[k]; !ok {
				stale = append(stale, k)
			}
		}
		sort.Strings(stale)
		if len(missing) > 0 {
			var sb strings.Builder
			for _, k := range missing {
				q, _ := json.Marshal(k)
				fmt.Fprintf(&sb, "\n  %s: \"\",   (%s)", q, keys[k][0])
			}
			t.Errorf("%s: %d sentences missing from static/i18n/%s.json:%s", lang, len(missing), lang, sb.String())
		}
		if len(empty) > 0 {
			t.Errorf("%s: empty translations in static/i18n/%s.json: %q", lang, lang, empty)
		}
		if len(stale) > 0 {
			t.Errorf("%s: static/i18n/%s.json has sentences no script uses any more (remove them): %q", lang, lang, stale)
		}
	}
}

func TestI18nReadCatalog(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{`{"a": "b", "c": "d"}`, ""},
		{`{"a": "b", "a": "c"}`, `"a" is there twice`},
		{`{"a": 1}`, `"a"`},
		{`["a"]`, "not a JSON object"},
	} {
		_, err := readCatalog([]byte(tc.in))
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("readCatalog(%s): %v, want %q", tc.in, err, tc.err)
		}
	}
}

// TestI18nExtraction pins the extractor on the shapes the console uses.
func TestI18nExtraction(t *testing.T) {
	dir := t.TempDir()
	src := `import { t, tn } from './i18n.js';
const a = t('Plain');
const b = t("Double \"quoted\"", { x: 1 });
const c = t('It\'s {name}', { name }) + tn('{count} row', '{count} rows', n);
// t(notChecked) in a comment
const d = t(variable);
const e = format(x); const f = obj.t(y);
`
	if err := os.WriteFile(filepath.Join(dir, "x.js"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, dynamic := consoleKeys(t, dir)
	var got []string
	for k := range keys {
		got = append(got, k)
	}
	sort.Strings(got)
	want := []string{"Double \"quoted\"", "It's {name}", "Plain", "{count} row", "{count} rows"}
	if !slices.Equal(got, want) {
		t.Errorf("keys %q, want %q", got, want)
	}
	if len(dynamic) != 1 || !strings.Contains(dynamic[0], "x.js:6") {
		t.Errorf("dynamic calls %q, want the one on line 6", dynamic)
	}
}
