-- +goose Up
-- Authentication: per-organisation password policy; folded first names for search.

CREATE TABLE password_policies (
    org_id              TEXT PRIMARY KEY REFERENCES orgs(id),
    min_length          INTEGER NOT NULL,
    require_upper       BOOLEAN NOT NULL,
    require_lower       BOOLEAN NOT NULL,
    require_digit       BOOLEAN NOT NULL,
    require_symbol      BOOLEAN NOT NULL,
    expiry_days_admins  INTEGER NOT NULL,
    expiry_days_users   INTEGER NOT NULL
);

CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Search and sort columns of the users list (folded: Unicode case-insensitive).
ALTER TABLE users ADD COLUMN first_name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN metadata_key TEXT NOT NULL DEFAULT '{}';
UPDATE users SET first_name_key = lower(first_name), metadata_key = lower(metadata);
CREATE INDEX users_org_first_name ON users(org_id, first_name_key, seq);
CREATE INDEX users_org_email_sort ON users(org_id, email_key, seq);
CREATE INDEX users_org_username_sort ON users(org_id, username_key, seq);
CREATE INDEX users_org_status_sort ON users(org_id, status, seq);
CREATE INDEX users_org_created ON users(org_id, created_at, seq);

-- +goose Down
DROP INDEX users_org_created;
DROP INDEX users_org_status_sort;
DROP INDEX users_org_username_sort;
DROP INDEX users_org_email_sort;
DROP INDEX users_org_first_name;
ALTER TABLE users DROP COLUMN metadata_key;
ALTER TABLE users DROP COLUMN first_name_key;
DROP INDEX sessions_expiry;
DROP TABLE password_policies;
