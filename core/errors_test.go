package core

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("create user %q: %w", "x", err) }
	for _, tt := range []struct {
		err  error
		want Kind
	}{
		{wrap(invalid("email", "is not an address")), KindInvalid},
		{wrap(&ConflictError{Field: "username", Message: "is already taken"}), KindConflict},
		{wrap(&NotFoundError{Kind: "user", Key: "u1"}), KindNotFound},
		{wrap(&TransitionError{Action: "enable", From: StatusActive}), KindTransition},
		{wrap(&ForbiddenError{Reason: "no"}), KindForbidden},
		{wrap(&PasswordChangeRequiredError{}), KindForbidden},
		{wrap(errBadCredentials), KindUnauthorized},
		{wrap(ErrUnauthorized), KindUnauthorized},
		{fmt.Errorf("%w (%w)", &BusyError{What: "the database"}, errors.New("database is locked")), KindBusy},
		{wrap(context.DeadlineExceeded), KindBusy},
		{fmt.Errorf("%w (%w)", &UnavailableError{Reason: "the disk is full"}, errors.New("SQLITE_FULL")), KindUnavailable},
		{errors.New("something else"), KindInternal},
	} {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}
