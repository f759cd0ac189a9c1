package core

import (
	"context"
	"fmt"
)

// ImportRow is one row of an import file, already mapped to a new user.
type ImportRow struct {
	Line int // the row's line in the file (the header is line 1)
	User NewUser
	// Err is a problem found reading the row (a cell that is not what its
	// column takes): the row is reported invalid with it and not created;
	// the other rows go on.
	Err error
}

// ImportOutcome is what became of one row.
type ImportOutcome struct {
	Line     int    `json:"line"`
	Username string `json:"username"`
	ID       string `json:"id,omitempty"`
	Outcome  string `json:"outcome"` // valid (dry run), created, invalid
	Error    error  `json:"-"`
}

// importBatch is how many valid rows one transaction creates.
const importBatch = 500

// MaxImportRows bounds one import.
const MaxImportRows = 20000

// ImportUsers validates every row (fields, metadata template, duplicates
// within the file and against the store) and, unless dryRun, creates and
// invites the valid rows in batches that are each one transaction. Invalid
// rows are reported and skipped; they never stop the others.
func (s *Service) ImportUsers(ctx context.Context, a Actor, orgID string, rows []ImportRow, dryRun bool) ([]ImportOutcome, error) {
	if err := AuthorizeUserAdmin(a); err != nil {
		return nil, err
	}
	if len(rows) > MaxImportRows {
		return nil, invalid("file", "has %d rows; at most %d can be imported at once", len(rows), MaxImportRows)
	}
	out := make([]ImportOutcome, len(rows))
	users := make([]*User, len(rows))
	ins := make([]NewUser, len(rows))
	seenUser := map[string]int{}
	seenEmail := map[string]int{}
	for i, r := range rows {
		r.User.OrgID = orgID
		out[i] = ImportOutcome{Line: r.Line, Username: r.User.Username}
		if r.Err != nil {
			out[i].Outcome, out[i].Error = "invalid", r.Err
			continue
		}
		u, in, err := s.prepareUser(ctx, a, r.User)
		if err != nil {
			out[i].Outcome, out[i].Error = "invalid", err
			continue
		}
		if first, ok := seenUser[FoldKey(u.Username)]; ok {
			out[i].Outcome, out[i].Error = "invalid", &ConflictError{Field: "username", Message: fmt.Sprintf("%q appears already on line %d", u.Username, first)}
			continue
		}
		if first, ok := seenEmail[FoldKey(u.Email)]; ok && u.Email != "" {
			out[i].Outcome, out[i].Error = "invalid", &ConflictError{Field: "email", Message: fmt.Sprintf("%q appears already on line %d", u.Email, first)}
			continue
		}
		seenUser[FoldKey(u.Username)] = r.Line
		if u.Email != "" {
			seenEmail[FoldKey(u.Email)] = r.Line
		}
		users[i], ins[i] = u, in
	}
	err := s.store.View(ctx, func(tx Tx) error {
		if _, err := tx.OrgByID(ctx, orgID); err != nil {
			return err
		}
		for i, u := range users {
			if u == nil {
				continue
			}
			if err := checkNewUser(ctx, tx, u); err != nil {
				users[i] = nil
				out[i].Outcome, out[i].Error = "invalid", err
				continue
			}
			out[i].Outcome = "valid"
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if dryRun {
		return out, nil
	}
	var batch []int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.store.InTx(ctx, func(tx Tx) error {
			for _, i := range batch {
				if err := checkUnique(ctx, tx, users[i], ""); err != nil {
					return err
				}
				if _, err := s.insertUser(ctx, tx, a, users[i], ins[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			// Something changed since validation (a concurrent write): redo the
			// batch row by row, so that only the rows at fault fail.
			for _, i := range batch {
				err := s.store.InTx(ctx, func(tx Tx) error {
					if err := checkNewUser(ctx, tx, users[i]); err != nil {
						return err
					}
					_, err := s.insertUser(ctx, tx, a, users[i], ins[i])
					return err
				})
				if err != nil {
					out[i].Outcome, out[i].Error = "invalid", err
					continue
				}
				out[i].Outcome, out[i].ID = "created", users[i].ID
			}
		} else {
			for _, i := range batch {
				out[i].Outcome, out[i].ID = "created", users[i].ID
			}
		}
		batch = batch[:0]
		return ctx.Err()
	}
	for i := range users {
		if users[i] == nil {
			continue
		}
		batch = append(batch, i)
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return out, err
			}
		}
	}
	if err := flush(); err != nil {
		return out, err
	}
	return out, nil
}
