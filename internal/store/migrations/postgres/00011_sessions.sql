-- +goose Up
-- PostgreSQL twin of the SQLite migration with the same number.
-- Sessions and passwords (issue 15).
-- locked_at: when the lockout locked the user, so that a lock of an owner can
-- expire (security.owner_lock_expiry). NULL unless the user is locked.
ALTER TABLE users ADD COLUMN locked_at TIMESTAMPTZ;

-- Self-service password-reset requests, queued as they arrive: the request
-- answers after one insert whether or not the login exists (no timing
-- oracle), and the mail worker resolves each request (the user, whether they
-- may reset, the link and its mail) before it claims mail.
CREATE TABLE password_reset_requests (
    id         TEXT COLLATE "C" PRIMARY KEY,
    org_id     TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    login      TEXT NOT NULL,
    language   TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX password_reset_requests_created ON password_reset_requests(created_at);

-- +goose Down
DROP TABLE password_reset_requests;
ALTER TABLE users DROP COLUMN locked_at;
