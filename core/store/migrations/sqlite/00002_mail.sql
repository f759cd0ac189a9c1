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
    invite_id       TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL CHECK (kind IN ('invite')),
    language        TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    token           TEXT NOT NULL DEFAULT '',
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
DROP TABLE mail_outbox;
