-- +goose Up
-- PostgreSQL twin of the SQLite migration with the same number: text
-- compares bytewise (COLLATE "C", as SQLite does), timestamps are timestamptz.
-- Authentication: per-organisation password policy; folded first names for search.

CREATE TABLE password_policies (
    org_id              TEXT COLLATE "C" PRIMARY KEY REFERENCES orgs(id),
    min_length          INTEGER NOT NULL,
    require_upper       BOOLEAN NOT NULL,
    require_lower       BOOLEAN NOT NULL,
    require_digit       BOOLEAN NOT NULL,
    require_symbol      BOOLEAN NOT NULL,
    expiry_days_admins  INTEGER NOT NULL,
    expiry_days_users   INTEGER NOT NULL
);

CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Per-organisation settings; 0 or '' means "the server's default".
CREATE TABLE org_settings (
    org_id            TEXT COLLATE "C" PRIMARY KEY REFERENCES orgs(id),
    invite_valid_days INTEGER NOT NULL DEFAULT 0,
    dormancy_days     INTEGER NOT NULL DEFAULT 0,
    default_language  TEXT COLLATE "C" NOT NULL DEFAULT ''
);

-- Search and sort columns of the users list (folded: Unicode case-insensitive).
ALTER TABLE users ADD COLUMN first_name_key TEXT COLLATE "C" NOT NULL DEFAULT '';
-- first name, last name and phone, folded, separated by U+001F: one column for
-- the substring search.
ALTER TABLE users ADD COLUMN search_key TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE users SET first_name_key = lower(first_name),
    search_key = lower(first_name) || chr(31) || lower(last_name) || chr(31) || phone;
CREATE INDEX users_org_first_name ON users(org_id, first_name_key, seq);
-- The default list order (last name), covering every filter and search
-- column, so filtered scans and counts read this narrow index, not the rows.
DROP INDEX users_org_last_name;
CREATE INDEX users_list ON users(org_id, last_name_key, seq, search_key, username_key,
    email_key, status, role_rank, invite_state, invite_expires_at, id);
-- Custom metadata values, folded, one row per field, for field:value search.
CREATE TABLE user_metadata (
    user_seq  BIGINT NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
    org_id    TEXT COLLATE "C" NOT NULL,
    field     TEXT COLLATE "C" NOT NULL,
    value_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_seq, field)
);
CREATE INDEX user_metadata_search ON user_metadata(org_id, field, value_key, user_seq);
CREATE INDEX users_org_status_sort ON users(org_id, status, seq);
CREATE INDEX users_org_created_seq ON users(org_id, created_at, seq);

-- +goose Down
DROP TABLE org_settings;
DROP TABLE user_metadata;
DROP INDEX users_list;
CREATE INDEX users_org_last_name ON users(org_id, last_name_key, seq);
DROP INDEX users_org_created_seq;
DROP INDEX users_org_status_sort;
DROP INDEX users_org_first_name;
ALTER TABLE users DROP COLUMN search_key;
ALTER TABLE users DROP COLUMN first_name_key;
DROP INDEX sessions_expiry;
DROP TABLE password_policies;
