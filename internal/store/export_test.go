package store

import "context"

// RerunFrom takes the schema back to just before version (running the
// down migrations of every later version) and migrates up again: a test
// reruns a data migration over rows it planted.
func (s *Store) RerunFrom(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version-1); err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}
