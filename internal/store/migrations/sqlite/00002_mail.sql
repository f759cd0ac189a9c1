-- +goose Up
-- The mail outbox and per-organisation template overrides.

-- One row per mail to deliver. A row is inserted in the same transaction as
-- the change that causes it (a user created or re-invited), so a mail is
-- queued if and only if that change committed. token holds the raw invite
-- token only while the row can still be delivered: it is blanked when the row
-- reaches sent, failed or cancelled.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ref_id          TEXT NOT NULL DEFAULT '',  -- invite: invites.id; password_reset: password_resets.id; group_message: groups.id
    kind            TEXT NOT NULL CHECK (kind IN ('invite','password_reset','group_message')),
    language        TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    token           TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',  -- group_message: the sender's subject and text
    body            TEXT NOT NULL DEFAULT '',
    sender          TEXT NOT NULL DEFAULT '',  -- group_message: who sent it (display name)
    group_name      TEXT NOT NULL DEFAULT '',  -- group_message: the group, as named when sent
    state           TEXT NOT NULL CHECK (state IN ('queued','sending','sent','failed','cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until   TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox(state, next_attempt_at);
CREATE INDEX mail_outbox_user ON mail_outbox(user_id, created_at);

-- Password-reset links: like invites, only the SHA-256 of the token is kept.
CREATE TABLE password_resets (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    voided_at  TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets(user_id);

-- An organisation's own text for one kind of mail in one language. An empty
-- part falls back to the embedded default.
CREATE TABLE mail_templates (
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    kind       TEXT NOT NULL,
    language   TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    html_body  TEXT NOT NULL DEFAULT '',
    text_body  TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, kind, language)
);

-- +goose Down
DROP TABLE mail_templates;
DROP TABLE password_resets;
DROP TABLE mail_outbox;
