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

-- +goose Down
DROP INDEX sessions_expiry;
DROP TABLE password_policies;
