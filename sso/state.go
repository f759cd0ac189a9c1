package sso

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// State is what the browser carries from /start to /callback, in a
// short-lived HttpOnly cookie signed with a key derived from the IdP's
// client secret (so that every replica with the same configuration checks
// it, and none other can forge one): the state and nonce sent to the IdP,
// the PKCE verifier, and where the sign-in goes.
type State struct {
	Org      string    `json:"o"`
	Audience string    `json:"a"`
	Return   string    `json:"r"`
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Expires  time.Time `json:"e"`
	// Started is when the round trip began; Prompt ("login") and MaxAge
	// (seconds) the fresh sign-in asked of the IdP on behalf of an app
	// (roster's OP passes its request's on).
	Started time.Time `json:"t"`
	Prompt  string    `json:"p,omitempty"`
	MaxAge  *int      `json:"m,omitempty"`
}

func stateKey(clientSecret, org string) []byte {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte("roster-sso-state\x00" + org))
	return m.Sum(nil)
}

// SealState is the cookie value of st.
func SealState(clientSecret string, st State) string {
	b, _ := json.Marshal(st)
	body := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, stateKey(clientSecret, st.Org))
	m.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errBadState = errors.New("the sign-in cookie is missing, expired or not valid")

// OpenState checks a cookie value sealed for org and returns its state.
func OpenState(clientSecret, org, v string, now time.Time) (State, error) {
	body, sig, ok := strings.Cut(v, ".")
	if !ok {
		return State{}, errBadState
	}
	m := hmac.New(sha256.New, stateKey(clientSecret, org))
	m.Write([]byte(body))
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		return State{}, errBadState
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return State{}, errBadState
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("%w: %v", errBadState, err)
	}
	if st.Org != org || !now.Before(st.Expires) {
		return State{}, errBadState
	}
	return st, nil
}
