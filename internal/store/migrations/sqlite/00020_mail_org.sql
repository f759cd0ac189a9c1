-- +goose Up
-- An organisation's profile for mails and pages: a support address and the
-- app catalog the invitation links to. The outbox learns a fourth kind
-- (app_message: an admin's message to the users of an app, with the app's
-- name as sent) and who claimed a row (claimed_by: the lease owner
-- "host/pid/nonce" of the process sending it), so that a process on the
-- same host can take over at once the claims of one that died instead of
-- waiting out the claim's lease. SQLite cannot alter a CHECK: the outbox is
-- rebuilt (nothing references it).

ALTER TABLE orgs ADD COLUMN support_email TEXT NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN catalog_url TEXT NOT NULL DEFAULT '';

CREATE TABLE mail_outbox_new (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ref_id          TEXT NOT NULL DEFAULT '',  -- invite: invites.id; password_reset: password_resets.id; group_message: groups.id; app_message: apps.id
    kind            TEXT NOT NULL CHECK (kind IN ('invite','password_reset','group_message','app_message')),
    language        TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    token           TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',  -- group_message, app_message: the sender's subject and text
    body            TEXT NOT NULL DEFAULT '',
    sender          TEXT NOT NULL DEFAULT '',  -- group_message, app_message: who sent it (display name)
    group_name      TEXT NOT NULL DEFAULT '',  -- group_message: the group, as named when sent
    app_name        TEXT NOT NULL DEFAULT '',  -- app_message: the app, as named when sent
    state           TEXT NOT NULL CHECK (state IN ('queued','sending','sent','failed','cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until   TIMESTAMP,
    claimed_by      TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);
INSERT INTO mail_outbox_new (id, org_id, user_id, ref_id, kind, language, to_addr, token, subject, body, sender, group_name,
    state, attempts, next_attempt_at, claimed_until, last_error, created_at, finished_at)
SELECT id, org_id, user_id, ref_id, kind, language, to_addr, token, subject, body, sender, group_name,
    state, attempts, next_attempt_at, claimed_until, last_error, created_at, finished_at FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_new RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox(state, next_attempt_at);
CREATE INDEX mail_outbox_user ON mail_outbox(user_id, created_at);

-- +goose Down
-- App messages cannot be kept by the previous release: they are dropped.
DELETE FROM mail_outbox WHERE kind = 'app_message';
CREATE TABLE mail_outbox_old (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ref_id          TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL CHECK (kind IN ('invite','password_reset','group_message')),
    language        TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    token           TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    sender          TEXT NOT NULL DEFAULT '',
    group_name      TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('queued','sending','sent','failed','cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until   TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);
INSERT INTO mail_outbox_old SELECT id, org_id, user_id, ref_id, kind, language, to_addr, token, subject, body, sender, group_name,
    state, attempts, next_attempt_at, claimed_until, last_error, created_at, finished_at FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_old RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox(state, next_attempt_at);
CREATE INDEX mail_outbox_user ON mail_outbox(user_id, created_at);
ALTER TABLE orgs DROP COLUMN catalog_url;
ALTER TABLE orgs DROP COLUMN support_email;
