package core

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestFoldKeyIsUnicodeAware(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"Zoë@x", "zoË@x", true},
		{"Zoe\u0308@x", "zoË@x", true}, // decomposed e + combining diaeresis
		{"ALICE", "alice", true},
		{"straße", "STRASSE", false}, // simple folding only: ß is not ss
		{"Kelvin\u212A", "kelvink", true},
		{" bob ", "BOB", true},
		{"zoe@x", "zoë@x", false},
		{"ǅ", "ǆ", true},
		// NFKC: compatibility forms are one name.
		{"ｍｅｍｂｅｒ", "member", true}, // full-width
		{"ＭＥＭＢＥＲ@ｅｘａｍｐｌｅ.com", "member@example.com", true},
		{"ﬁnance", "finance", true}, // ligature
		{"user²", "user2", true},    // superscript
		{"ｍｅｍｂｅｒ", "membre", false},
	}
	for _, tt := range tests {
		if got := FoldKey(tt.a) == FoldKey(tt.b); got != tt.same {
			t.Errorf("FoldKey(%q)==FoldKey(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

// The ASCII fast path of FoldKey gives the keys the Unicode path gives:
// every ASCII byte alone, between letters and padded, and mixed strings.
func TestFoldKeyASCIIIsTheUnicodeFold(t *testing.T) {
	var inputs []string
	for c := range 128 {
		ch := string(rune(c))
		inputs = append(inputs, ch, "a"+ch+"Z", " \t"+ch+"k\n", "user"+ch+"@Example.COM")
	}
	inputs = append(inputs, "", " ", "\x00\x1f\x7f", "Kelvin", "STRASSE", "  Alice Smith  ", "+1 555 0100", "user000123@example.com")
	for _, in := range inputs {
		fast, ok := foldASCII(in)
		if !ok {
			t.Fatalf("foldASCII(%q): not ASCII?", in)
		}
		if slow := foldUnicode(in); fast != slow {
			t.Errorf("FoldKey(%q): ASCII path %q, Unicode path %q", in, fast, slow)
		}
	}
	// The Unicode path folds each ASCII rune of a mixed string as foldRune does.
	for c := range rune(128) {
		if got, want := foldUnicode("é"+string(c)), norm.NFKC.String(strings.TrimSpace("é"+string(c))); got != strings.Map(foldRune, want) {
			t.Errorf("foldUnicode(%q) = %q, want %q", "é"+string(c), got, strings.Map(foldRune, want))
		}
	}
	for _, in := range []string{"Zoë", "ｍ", "\u212a", "a\u00a0"} {
		if _, ok := foldASCII(in); ok {
			t.Errorf("foldASCII(%q) took a non-ASCII string", in)
		}
	}
}

func TestValidateUserFields(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen+1)
	tests := []struct {
		name  string
		u     User
		field string // "" = valid
		msg   string
	}{
		{"valid", User{Username: "alice@example.com", Email: "alice@example.com", Role: RoleMember}, "", ""},
		{"empty username", User{Username: " ", Role: RoleMember}, "username", "is required"},
		{"space in username", User{Username: "a b", Role: RoleMember}, "username", "spaces"},
		{"control character", User{Username: "a\x00b", Role: RoleMember}, "username", "control"},
		{"bad email", User{Username: "a", Email: "not-an-email", Role: RoleMember}, "email", "not a valid email"},
		{"email with display name", User{Username: "a", Email: "Bob <b@x.com>", Role: RoleMember}, "email", "not a valid email"},
		{"email without domain dot", User{Username: "a", Email: "b@localhost", Role: RoleMember}, "email", "not a valid email"},
		{"too long first name", User{Username: "a", FirstName: long, Role: RoleMember}, "first_name", "at most 128"},
		{"bad phone", User{Username: "a", Phone: "call me", Role: RoleMember}, "phone", "not a phone"},
		{"bad language", User{Username: "a", Language: "english!", Role: RoleMember}, "language", "not a language"},
		{"unknown role", User{Username: "a", Role: "god"}, "role", "not one of"},
		{"admin needs email", User{Username: "a", Role: RoleAdmin}, "email", "required for admins"},
		{"owner needs email", User{Username: "a", Role: RoleOwner}, "email", "required for owners"},
		{"member needs no email", User{Username: "a", Role: RoleMember}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p problems
			validateUserFields(&p, &tt.u)
			err := p.err()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field() != tt.field || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want a problem on %s saying %q", err, tt.field, tt.msg)
			}
		})
	}
}

func TestValidateMetadata(t *testing.T) {
	tpl := []MetadataField{
		{Name: "department", Label: "Department", Type: MetaString, Required: true},
		{Name: "floor", Type: MetaNumber},
		{Name: "remote", Type: MetaBoolean},
		{Name: "started", Type: MetaDate},
	}
	tests := []struct {
		name   string
		values map[string]string
		want   string // substring of the error; "" = valid
	}{
		{"valid", map[string]string{"department": "Sales", "floor": "3", "remote": "true", "started": "2024-02-29"}, ""},
		{"required missing", map[string]string{"floor": "3"}, "metadata.department: is required"},
		{"unknown field", map[string]string{"department": "x", "shoe": "42"}, "metadata.shoe: is not a field"},
		{"field names are case-sensitive", map[string]string{"Department": "x"}, "metadata.Department: is not a field"},
		{"not a number", map[string]string{"department": "x", "floor": "third"}, `metadata.floor: "third" is not a number`},
		{"not a boolean", map[string]string{"department": "x", "remote": "yes"}, "metadata.remote"},
		{"not a date", map[string]string{"department": "x", "started": "2023-02-29"}, "metadata.started"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateMetadata(tpl, tt.values)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestValidateMetadataTemplate(t *testing.T) {
	err := ValidateMetadataTemplate([]MetadataField{{Name: "ok", Type: MetaString}, {Name: "ok", Type: MetaString}, {Name: "9x", Type: "blob"}})
	for _, want := range []string{`fields[1].name: "ok" appears twice`, "fields[2].name", `fields[2].type: "blob"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to contain %q", err, want)
		}
	}
	if err := ValidateMetadataTemplate([]MetadataField{{Name: "department", Label: "Dept", Type: MetaString, Required: true}}); err != nil {
		t.Fatal(err)
	}
}
