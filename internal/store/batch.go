package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/rosterhq/roster/core"
)

// Group commit. SQLite has one writer, and most of a small write
// transaction's cost is its COMMIT. InTxBatched lets concurrent callers share
// one transaction: each caller's function runs inside its own savepoint
// (rolled back alone when it fails), and the transaction commits once for all
// of them. A caller returns only after the commit that made its writes
// durable, or with the error that discarded them.

// maxBatch bounds the callers sharing one transaction.
const maxBatch = 64

type txBatcher struct {
	mu      sync.Mutex
	queue   []*batchJob
	running bool
}

type batchJob struct {
	ctx  context.Context
	fn   func(core.Tx) error
	done chan error
}

// InTxBatched runs fn in a read-write transaction that it may share with
// other concurrent InTxBatched callers. The first caller to find no batch
// running runs batches until the queue is empty.
//
// On PostgreSQL, which has no single writer, each caller gets its own
// transaction: concurrent writers then run in parallel on the pool instead
// of queueing behind one batch's round trips.
func (s *Store) InTxBatched(ctx context.Context, fn func(core.Tx) error) error {
	if s.driver == "postgres" {
		// As in a batch, a panic is this caller's error only.
		return s.InTx(ctx, func(t core.Tx) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic in transaction: %v", p)
				}
			}()
			return fn(t)
		})
	}
	j := &batchJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	b := &s.batch
	b.mu.Lock()
	b.queue = append(b.queue, j)
	if b.running {
		b.mu.Unlock()
		return <-j.done
	}
	b.running = true
	b.mu.Unlock()
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			break
		}
		batch := append([]*batchJob(nil), b.queue[:n]...)
		b.queue = append(b.queue[:0:0], b.queue[n:]...)
		b.mu.Unlock()
		s.runBatch(batch)
	}
	return <-j.done
}

func (s *Store) runBatch(batch []*batchJob) {
	results := make([]error, len(batch))
	ctx := context.Background()
	err := s.InTx(ctx, func(t core.Tx) error {
		tt := t.(*tx)
		for i, j := range batch {
			if err := j.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			if _, err := tt.tx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			if err := runJob(j, tt); err != nil {
				results[i] = err
				if _, err := tt.tx.ExecContext(ctx, "ROLLBACK TO job"); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := tt.tx.ExecContext(ctx, "RELEASE job"); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	for i, j := range batch {
		if err != nil {
			j.done <- err
		} else {
			j.done <- results[i]
		}
	}
}

// runJob turns a panic in one caller's function into that caller's error,
// so that the others still get their answer.
func runJob(j *batchJob, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in transaction: %v", p)
		}
	}()
	return j.fn(t)
}
