-- +goose Up
-- PostgreSQL twin of the SQLite migration with the same number: text
-- compares bytewise (COLLATE "C", as SQLite does), timestamps are timestamptz.
-- The mail outbox and per-organisation template overrides.

-- One row per mail to deliver. A row is inserted in the same transaction as
-- the change that causes it (a user created or re-invited), so a mail is
-- queued if and only if that change committed. token holds the raw invite
-- token only while the row can still be delivered: it is blanked when the row
-- reaches sent, failed or cancelled.
CREATE TABLE mail_outbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    org_id          TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ref_id          TEXT COLLATE "C" NOT NULL DEFAULT '',  -- invite: invites.id; password_reset: password_resets.id; group_message: groups.id
    kind            TEXT COLLATE "C" NOT NULL CHECK (kind IN ('invite','password_reset','group_message')),
    language        TEXT COLLATE "C" NOT NULL,
    to_addr         TEXT COLLATE "C" NOT NULL,
    token           TEXT COLLATE "C" NOT NULL DEFAULT '',
    subject         TEXT COLLATE "C" NOT NULL DEFAULT '',  -- group_message: the sender's subject and text
    body            TEXT COLLATE "C" NOT NULL DEFAULT '',
    sender          TEXT COLLATE "C" NOT NULL DEFAULT '',  -- group_message: who sent it (display name)
    group_name      TEXT COLLATE "C" NOT NULL DEFAULT '',  -- group_message: the group, as named when sent
    state           TEXT COLLATE "C" NOT NULL CHECK (state IN ('queued','sending','sent','failed','cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_until   TIMESTAMPTZ,
    last_error      TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due ON mail_outbox(state, next_attempt_at);
CREATE INDEX mail_outbox_user ON mail_outbox(user_id, created_at);

-- Password-reset links: like invites, only the SHA-256 of the token is kept.
CREATE TABLE password_resets (
    id         TEXT COLLATE "C" PRIMARY KEY,
    org_id     TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    voided_at  TIMESTAMPTZ
);
CREATE INDEX password_resets_user ON password_resets(user_id);

-- An organisation's own text for one kind of mail in one language. An empty
-- part falls back to the embedded default.
CREATE TABLE mail_templates (
    org_id     TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    kind       TEXT COLLATE "C" NOT NULL,
    language   TEXT COLLATE "C" NOT NULL,
    subject    TEXT COLLATE "C" NOT NULL DEFAULT '',
    html_body  TEXT COLLATE "C" NOT NULL DEFAULT '',
    text_body  TEXT COLLATE "C" NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, kind, language)
);

-- +goose Down
DROP TABLE mail_templates;
DROP TABLE password_resets;
DROP TABLE mail_outbox;
