package argon2id

import (
	"strings"
	"testing"
)

func TestArgon2HashAndVerify(t *testing.T) {
	h := NewArgon2(Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 16, SaltLen: 8})
	hash, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q does not carry its parameters", hash)
	}
	again, _ := h.Hash("correct horse")
	if again == hash {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	// A hash made with other parameters still verifies (parameters can be raised later).
	strong := NewArgon2(Argon2Params{})
	for _, tt := range []struct {
		hash, pw string
		ok       bool
	}{
		{hash, "correct horse", true},
		{hash, "correct horsf", false},
		{hash, "", false},
	} {
		ok, err := strong.Verify(tt.hash, tt.pw)
		if err != nil || ok != tt.ok {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.pw, ok, err, tt.ok)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=64,t=1,p=1$!!$a2V5"} {
		if ok, err := strong.Verify(bad, "x"); ok || err == nil {
			t.Errorf("malformed hash %q: ok=%v err=%v", bad, ok, err)
		}
	}
}
