-- +goose Up
-- PostgreSQL twin of the SQLite migration with the same number. SQLite
-- rebuilds group_members as a WITHOUT ROWID table; PostgreSQL tables have no
-- rowid, and the primary key (group_id, user_id) is already the index, so
-- nothing changes here.
COMMENT ON TABLE group_members IS 'members of groups: one row per (group, user)';

-- +goose Down
COMMENT ON TABLE group_members IS NULL;
