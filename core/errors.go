package core

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Doors translate them at their edge (HTTP status, SCIM error, exit code).
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	ErrInvalid      = errors.New("invalid")
	ErrTransition   = errors.New("illegal status transition")
	ErrUnavailable  = errors.New("unavailable")
	ErrBusy         = errors.New("busy")
)

// BusyError is a bound on concurrent work that is full (password hashing):
// the request was refused without being done and may be retried after
// RetryAfter. Doors answer 503 with a Retry-After header.
type BusyError struct {
	What       string        // "password checking"
	Limit      int           // how many run at once
	RetryAfter time.Duration // a hint for the client
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s is at its limit of %d at once; try again shortly", e.What, e.Limit)
}

// Unwrap makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Unwrap() error { return ErrBusy }

// UnavailableError is a store that cannot take writes (disk full, a
// read-only database): retryable once the operator fixed it, never a client
// error.
type UnavailableError struct {
	Reason string // "the disk is full", "the database is read-only", …
}

func (e *UnavailableError) Error() string { return "the database cannot be written: " + e.Reason }

// Unwrap makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Unwrap() error { return ErrUnavailable }

// NotFoundError names what was not found.
type NotFoundError struct {
	Kind string // "user", "org", "group", …
	Key  string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.Key) }

// Unwrap makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ConflictError is a uniqueness violation on a field.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in an input; nothing was written.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Field is the first offending field, for error bodies that carry one.
func (e *ValidationError) Field() string {
	if len(e.Problems) == 0 {
		return ""
	}
	return e.Problems[0].Field
}

// problems collects field errors while validating.
type problems []FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// invalid is a one-field validation error.
func invalid(field, format string, args ...any) error {
	var p problems
	p.add(field, format, args...)
	return p.err()
}

// TransitionError is a status change the lifecycle does not allow.
type TransitionError struct {
	Action string
	From   Status
	Reason string
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("cannot %s a user who is %s", e.Action, e.From)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrTransition) true.
func (e *TransitionError) Unwrap() error { return ErrTransition }

// ForbiddenError says why an actor may not do something; Field, when set,
// names the input that asked for too much.
type ForbiddenError struct {
	Reason string
	Field  string
}

func (e *ForbiddenError) Error() string { return "forbidden: " + e.Reason }

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }
