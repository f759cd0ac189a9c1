-- +goose Up
-- PostgreSQL twin of the SQLite migration with the same number.
-- An organisation's profile for mails and pages: a support address and the
-- app catalog the invitation links to. The outbox learns a fourth kind
-- (app_message: an admin's message to the users of an app, with the app's
-- name as sent) and who claimed a row (claimed_by: the lease owner
-- "host/pid/nonce" of the process sending it), so that a process on the
-- same host can take over at once the claims of one that died instead of
-- waiting out the claim's lease.

ALTER TABLE orgs ADD COLUMN support_email TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN catalog_url TEXT COLLATE "C" NOT NULL DEFAULT '';

ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check CHECK (kind IN ('invite','password_reset','group_message','app_message'));
ALTER TABLE mail_outbox ADD COLUMN app_name TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE mail_outbox ADD COLUMN claimed_by TEXT COLLATE "C" NOT NULL DEFAULT '';

-- +goose Down
-- App messages cannot be kept by the previous release: they are dropped.
DELETE FROM mail_outbox WHERE kind = 'app_message';
ALTER TABLE mail_outbox DROP COLUMN claimed_by;
ALTER TABLE mail_outbox DROP COLUMN app_name;
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check CHECK (kind IN ('invite','password_reset','group_message'));
ALTER TABLE orgs DROP COLUMN catalog_url;
ALTER TABLE orgs DROP COLUMN support_email;
