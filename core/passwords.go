package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PasswordPolicy is an organisation's password rules: complexity for
// everyone, expiry set separately for administrators and for other users.
type PasswordPolicy struct {
	MinLength        int  `json:"min_length" db:"min_length"`
	RequireUpper     bool `json:"require_upper" db:"require_upper"`
	RequireLower     bool `json:"require_lower" db:"require_lower"`
	RequireDigit     bool `json:"require_digit" db:"require_digit"`
	RequireSymbol    bool `json:"require_symbol" db:"require_symbol"`
	ExpiryDaysAdmins int  `json:"expiry_days_admins" db:"expiry_days_admins"` // 0: never expires
	ExpiryDaysUsers  int  `json:"expiry_days_users" db:"expiry_days_users"`   // 0: never expires
}

// DefaultPasswordPolicy applies until an organisation sets its own.
var DefaultPasswordPolicy = PasswordPolicy{MinLength: 10}

// MaxPasswordLen bounds the work a password costs to hash.
const MaxPasswordLen = 256

// commonPasswords are refused whatever the policy (compared
// case-insensitively and after normalising, with the embedded list of
// breached passwords: see weakReason).
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`123456 123456789 12345678 password qwerty123 qwerty 1234567890 1234567
		password1 password123 123123 111111 abc123 iloveyou admin admin123 welcome welcome1 letmein monkey
		dragon football baseball sunshine princess qwertyuiop 654321 superman 1q2w3e4r 1qaz2wsx zaq12wsx
		passw0rd p@ssw0rd p@ssword trustno1 starwars whatever master hello123 freedom shadow michael
		changeme changeme123 secret secret123 administrator root toor default guest login 000000 121212
		qwerty1 asdfghjkl asdf1234 987654321 11111111 00000000 12341234 computer internet summer2024
		winter2024 spring2024 autumn2024 summer2025 winter2025 spring2025 summer2026 winter2026 spring2026
		company123 password! password1! welcome123 letmein123 iloveyou1 football1 baseball1 correcthorse`) {
		commonPasswords[p] = true
	}
}

// Validate checks the policy itself.
func (p PasswordPolicy) Validate() error {
	var ps problems
	if p.MinLength < 8 || p.MinLength > 128 {
		ps.add("min_length", "%d is not between 8 and 128", p.MinLength)
	}
	if p.ExpiryDaysAdmins < 0 || p.ExpiryDaysAdmins > 3650 {
		ps.add("expiry_days_admins", "%d is not between 0 (never) and 3650", p.ExpiryDaysAdmins)
	}
	if p.ExpiryDaysUsers < 0 || p.ExpiryDaysUsers > 3650 {
		ps.add("expiry_days_users", "%d is not between 0 (never) and 3650", p.ExpiryDaysUsers)
	}
	return ps.err()
}

// Check tests a candidate password for a user against the policy.
func (p PasswordPolicy) Check(password string, u *User) error {
	var ps problems
	n := utf8.RuneCountInString(password)
	if n < p.MinLength {
		ps.add("password", "must be at least %d characters long", p.MinLength)
	}
	if len(password) > MaxPasswordLen {
		ps.add("password", "must be at most %d bytes long", MaxPasswordLen)
	}
	var upper, lower, digit, symbol bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ':
			symbol = true
		}
	}
	if p.RequireUpper && !upper {
		ps.add("password", "must contain an upper-case letter")
	}
	if p.RequireLower && !lower {
		ps.add("password", "must contain a lower-case letter")
	}
	if p.RequireDigit && !digit {
		ps.add("password", "must contain a digit")
	}
	if p.RequireSymbol && !symbol {
		ps.add("password", "must contain a symbol")
	}
	low := strings.ToLower(password)
	if why := weakReason(password); why != "" {
		ps.add("password", "%s", why)
	}
	if u != nil {
		if local := strings.ToLower(strings.SplitN(u.Username, "@", 2)[0]); len(local) >= 3 && strings.Contains(low, local) {
			ps.add("password", "must not contain the username")
		}
	}
	return ps.err()
}

// Expired reports whether u's password has outlived the policy's expiry for its role.
func (p PasswordPolicy) Expired(u *User, now time.Time) bool {
	days := p.ExpiryDaysUsers
	if u.Role.IsAdmin() {
		days = p.ExpiryDaysAdmins
	}
	if days == 0 || u.PasswordChangedAt == nil {
		return false
	}
	return now.After(u.PasswordChangedAt.Add(time.Duration(days) * 24 * time.Hour))
}

// PasswordPolicy returns an organisation's policy (the default when unset).
func (s *Service) PasswordPolicy(ctx context.Context, orgID string) (PasswordPolicy, error) {
	var p PasswordPolicy
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		p, err = policyOf(ctx, tx, orgID)
		return err
	})
	return p, err
}

func policyOf(ctx context.Context, tx Tx, orgID string) (PasswordPolicy, error) {
	p, err := tx.PasswordPolicy(ctx, orgID)
	if errors.Is(err, ErrNotFound) {
		return DefaultPasswordPolicy, nil
	}
	if err != nil {
		return PasswordPolicy{}, err
	}
	return *p, nil
}

// errAdminExpiryOperator is an organisation's admin changing the password
// expiry of administrators: that is the operator's (Digital.ai: "only by
// Customer Support").
var errAdminExpiryOperator = &ForbiddenError{Field: "expiry_days_admins",
	Reason: "the password expiry of administrators is set only by the operator on the host (roster org set NAME --admin-password-expiry 90d); send the value in force or leave it out"}

// SetPasswordPolicy replaces an organisation's policy. The administrators'
// expiry is the operator's: anyone else must leave it as it is (a policy
// read back and sent again passes), else the change is refused.
func (s *Service) SetPasswordPolicy(ctx context.Context, a Actor, orgID string, p PasswordPolicy) error {
	if err := authorizeOwnerAdmin(a, PermPasswordPolicy); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		before, err := policyOf(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if p.ExpiryDaysAdmins != before.ExpiryDaysAdmins && a.Kind != ActorCLI {
			return errAdminExpiryOperator
		}
		if err := tx.SetPasswordPolicy(ctx, orgID, &p); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "org.password_policy", "org", orgID, before, p)
	})
	if err != nil {
		return fmt.Errorf("set password policy: %w", err)
	}
	return nil
}

// SetAdminPasswordExpiry sets how long administrators' passwords live (0:
// they never expire); only the operator on the host may (roster org set
// --admin-password-expiry).
func (s *Service) SetAdminPasswordExpiry(ctx context.Context, a Actor, orgID string, days int) error {
	if a.Kind != ActorCLI {
		return errAdminExpiryOperator
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.OrgByID(ctx, orgID); err != nil {
			return err
		}
		before, err := policyOf(ctx, tx, orgID)
		if err != nil {
			return err
		}
		p := before
		p.ExpiryDaysAdmins = days
		if err := p.Validate(); err != nil {
			return err
		}
		if err := tx.SetPasswordPolicy(ctx, orgID, &p); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "org.admin_password_expiry", "org", orgID, before, p)
	})
	if err != nil {
		return fmt.Errorf("set administrators' password expiry: %w", err)
	}
	return nil
}
