package core

import (
	_ "embed"
	"strings"
	"unicode"
)

// weakPasswordList is the most common passwords of real breaches (John the
// Ripper's password.lst, public domain, 3546 entries by decreasing frequency)
// and roster's additions: the words common passwords are made of.
//
//go:embed weakpasswords.txt
var weakPasswordList string

// weakExact holds every listed password, lower-cased; weakBase holds their
// normalised forms (see normalizeWeak), so that "Password123!", "P@ssw0rd"
// and "Welcome2024!" are found through "password" and "welcome".
var weakExact, weakBase = func() (map[string]bool, map[string]bool) {
	exact, base := map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(weakPasswordList, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		low := strings.ToLower(line)
		exact[low] = true
		if b := normalizeWeak(low); len([]rune(b)) >= 4 {
			base[b] = true
		}
	}
	for p := range commonPasswords {
		exact[p] = true
		if b := normalizeWeak(p); len([]rune(b)) >= 4 {
			base[b] = true
		}
	}
	return exact, base
}()

// leet undoes the usual letter-for-digit or symbol swaps.
var leet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "8", "b", "9", "g", "@", "a", "$", "s", "!", "i", "|", "l", "+", "t")

// normalizeWeak lower-cases p, strips the digits, symbols and spaces people
// put after a word and the digits before it ("Password123!", "2024password"
// → "password"), and undoes leetspeak in what is left ("p@ssw0rd" →
// "password").
func normalizeWeak(p string) string {
	p = strings.ToLower(p)
	p = strings.TrimRightFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	p = strings.TrimLeftFunc(p, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' })
	return leet.Replace(p)
}

// weakReason says why a password is known to be weak ("" when it is not):
// it is a listed password, a listed password's word with digits, symbols or
// leetspeak added, or a run of repeated or sequential characters.
func weakReason(password string) string {
	low := strings.ToLower(password)
	switch {
	case weakExact[low]:
		return "is one of the most common passwords (found in lists of breached passwords)"
	case weakBase[normalizeWeak(low)]:
		return "is a common password with digits, symbols or letter swaps added (found in lists of breached passwords)"
	case repetitive(low):
		return "is a run of repeated or sequential characters"
	}
	return ""
}

// repetitive reports whether p is made of few distinct characters
// ("aaaaaaaaaaaa", "abababababab"), of one short unit repeated
// ("abcabcabcabc"), or of one ascending or descending run ("abcdefghijkl",
// "0987654321"), with at most a few characters added at its end.
func repetitive(p string) bool {
	rs := []rune(p)
	if len(rs) == 0 {
		return false
	}
	distinct := map[rune]bool{}
	for _, r := range rs {
		distinct[r] = true
	}
	if len(distinct) <= 3 {
		return true
	}
	for k := 1; k <= 4 && k <= len(rs)/2; k++ {
		periodic := true
		for i := k; i < len(rs); i++ {
			if rs[i] != rs[i-k] {
				periodic = false
				break
			}
		}
		if periodic {
			return true
		}
	}
	// The longest run of steps of +1 or -1 (keyboard order for digits is
	// the same as code order).
	longest, run := 1, 1
	for i := 1; i < len(rs); i++ {
		d := rs[i] - rs[i-1]
		if (d == 1 || d == -1) && (run == 1 || d == rs[i-1]-rs[i-2]) {
			run++
		} else if d == 1 || d == -1 {
			run = 2
		} else {
			run = 1
		}
		longest = max(longest, run)
	}
	return longest >= len(rs)-2
}
