-- +goose Up
-- LDAP sync: per-source state (watermark, last full sync), the record of
-- every run, and which users a source itself removed (so that it re-enables
-- only those, never a user an admin disabled).

CREATE TABLE ldap_sync_state (
    source       TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    watermark    TEXT NOT NULL DEFAULT '',
    last_full_at TIMESTAMP,
    last_run_at  TIMESTAMP,
    -- The run lease: one process (CLI or replica) syncs a source at a time.
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  TIMESTAMP
);

CREATE TABLE ldap_sync_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT NOT NULL,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    mode         TEXT NOT NULL CHECK (mode IN ('full','incremental')),
    dry_run      BOOLEAN NOT NULL DEFAULT FALSE,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       TEXT NOT NULL CHECK (status IN ('running','ok','failed','aborted')),
    entries_read INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    disabled     INTEGER NOT NULL DEFAULT 0,
    archived     INTEGER NOT NULL DEFAULT 0,
    enabled      INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    linked       INTEGER NOT NULL DEFAULT 0,
    conflicts    INTEGER NOT NULL DEFAULT 0,
    errors       INTEGER NOT NULL DEFAULT 0,
    memberships  INTEGER NOT NULL DEFAULT 0,
    message      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ldap_sync_runs_source ON ldap_sync_runs(source, id);

CREATE TABLE ldap_removed (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    source  TEXT NOT NULL
);

-- +goose Down
DROP TABLE ldap_removed;
DROP TABLE ldap_sync_runs;
DROP TABLE ldap_sync_state;
