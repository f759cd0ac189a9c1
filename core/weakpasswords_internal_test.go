package core

import (
	"strings"
	"testing"
)

func TestWeakPasswordsAreRefusedByName(t *testing.T) {
	if n := len(weakExact); n < 3000 {
		t.Fatalf("the embedded list holds %d passwords, want thousands", n)
	}
	policy := PasswordPolicy{MinLength: 10}
	for _, tc := range []struct {
		pw, want string // want: "" for accepted, else a part of the rule's message
	}{
		{"Password123!", "common password with digits"},
		{"Welcome2024!", "common password with digits"},
		{"aaaaaaaaaaaa", "repeated or sequential"},
		{"abababababab", "repeated or sequential"},
		{"abcabcabcabc", "repeated or sequential"},
		{"abcdefghijkl", "repeated or sequential"},
		{"1234567890", "most common"},
		{"0987654321", "most common"},
		{"zyxwvutsrqpo", "repeated or sequential"},
		{"qwertyuiop", "most common"},
		{"P@ssw0rd2024", "common password with digits"},
		{"Summer2026!!", "common password with digits"},
		{"iloveyou12345", "common password with digits"},
		{"Football#1998", "common password with digits"},
		{"123456789abc", ""},
		{"Tr0ub4dor&3-horse", ""},
		{"Keeper-passphrase-42", ""},
		{"Sturdy-passphrase-7", ""},
		{"correct horse battery", ""},
		{"N3w-assigned-secret", ""},
	} {
		t.Run(tc.pw, func(t *testing.T) {
			err := policy.Check(tc.pw, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want a refusal naming %q", err, tc.want)
			}
		})
	}
}
