package core

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Field limits. They hold for every door.
const (
	MaxUsernameLen = 256
	MaxEmailLen    = 254
	MaxNameLen     = 128
	MaxPhoneLen    = 32
	MaxLanguageLen = 35
	MaxMetaValue   = 1024
	MaxExternalID  = 512
)

// FoldKey is the key under which names (usernames, emails, group names,
// searched text) are compared and kept unique: Unicode NFKC, then simple case
// folding, so "Zoë@x" and "zoË@x" (composed or not) collide, and so do the
// compatibility forms "ｍｅｍｂｅｒ" (full-width) and "member", or "ﬁ" and
// "fi". The name itself is kept as it was given; only its key is folded.
func FoldKey(s string) string {
	if k, ok := foldASCII(s); ok {
		return k
	}
	return foldUnicode(s)
}

// foldASCII is FoldKey for ASCII text, which a directory sync folds a few
// hundred thousand times: NFKC leaves ASCII as it is, and the smallest rune
// of an ASCII letter's folding orbit is its upper case (the other members
// of k's and s's orbits, the Kelvin sign and the long s, are above ASCII).
// ok is false when s is not ASCII.
func foldASCII(s string) (string, bool) {
	lower := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		lower = lower || ('a' <= c && c <= 'z')
	}
	s = strings.TrimSpace(s)
	if !lower {
		return s, true
	}
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	return string(b), true
}

// foldUnicode is FoldKey for any text.
func foldUnicode(s string) string {
	s = norm.NFKC.String(strings.TrimSpace(s))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteByte(byte(r) - ('a' - 'A')) // foldASCII's rule
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		default:
			b.WriteRune(foldRune(r))
		}
	}
	return b.String()
}

// foldRune maps r to the smallest rune of its simple case-folding orbit after
// lower-casing, a canonical representative for case-insensitive comparison.
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	return min
}

// checkText validates a free-text field: valid UTF-8, no control characters,
// at most max runes.
func checkText(p *problems, field, v string, max int) {
	if !utf8.ValidString(v) {
		p.add(field, "is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(v); n > max {
		p.add(field, "is %d characters long; at most %d are allowed", n, max)
		return
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			p.add(field, "contains a control character")
			return
		}
	}
}

func checkUsername(p *problems, v string) {
	if strings.TrimSpace(v) == "" {
		p.add("username", "is required")
		return
	}
	n := len(*p)
	checkText(p, "username", v, MaxUsernameLen)
	if len(*p) > n {
		return
	}
	if strings.IndexFunc(v, unicode.IsSpace) >= 0 {
		p.add("username", "must not contain spaces")
	}
}

func checkEmail(p *problems, v string) {
	if v == "" {
		return
	}
	if len(v) > MaxEmailLen {
		p.add("email", "is %d characters long; at most %d are allowed", len(v), MaxEmailLen)
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		p.add("email", "%q is not a valid email address", v)
	}
}

var languageRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

func checkLanguage(p *problems, v string) {
	if v == "" {
		return
	}
	if len(v) > MaxLanguageLen || !languageRE.MatchString(v) {
		p.add("language", "%q is not a language tag such as en or pt-BR", v)
	}
}

var phoneRE = regexp.MustCompile(`^\+?[0-9 ()./-]{3,}$`)

func checkPhone(p *problems, v string) {
	if v == "" {
		return
	}
	if len(v) > MaxPhoneLen || !phoneRE.MatchString(v) {
		p.add("phone", "%q is not a phone number", v)
	}
}

// ValidateMetadata checks values against an organisation's template: known
// fields only, required ones present, each value of its field's type.
func ValidateMetadata(tpl []MetadataField, values map[string]string) error {
	var p problems
	byName := make(map[string]MetadataField, len(tpl))
	for _, f := range tpl {
		byName[f.Name] = f
	}
	for k, v := range values {
		f, ok := byName[k]
		field := "metadata." + k
		if !ok {
			p.add(field, "is not a field of the organisation's metadata template")
			continue
		}
		if v == "" {
			continue
		}
		checkText(&p, field, v, MaxMetaValue)
		switch f.Type {
		case MetaNumber:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				p.add(field, "%q is not a number", v)
			}
		case MetaBoolean:
			if v != "true" && v != "false" {
				p.add(field, "%q is not true or false", v)
			}
		case MetaDate:
			if _, err := time.Parse("2006-01-02", v); err != nil {
				p.add(field, "%q is not a date (YYYY-MM-DD)", v)
			}
		}
	}
	for _, f := range tpl {
		if f.Required && values[f.Name] == "" {
			p.add("metadata."+f.Name, "is required")
		}
	}
	slices.SortStableFunc(p, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return p.err()
}

var metaNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// ValidateMetadataTemplate checks a template before it is stored.
func ValidateMetadataTemplate(tpl []MetadataField) error {
	var p problems
	seen := map[string]bool{}
	for i, f := range tpl {
		field := fmt.Sprintf("fields[%d]", i)
		if !metaNameRE.MatchString(f.Name) {
			p.add(field+".name", "%q must start with a letter and hold only letters, digits and _ (at most 64)", f.Name)
		}
		if seen[FoldKey(f.Name)] {
			p.add(field+".name", "%q appears twice (names are compared case-insensitively)", f.Name)
		}
		seen[FoldKey(f.Name)] = true
		switch f.Type {
		case MetaString, MetaNumber, MetaBoolean, MetaDate:
		default:
			p.add(field+".type", "%q is not one of string, number, boolean, date", f.Type)
		}
		checkText(&p, field+".label", f.Label, MaxNameLen)
	}
	return p.err()
}
