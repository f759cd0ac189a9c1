-- +goose Up
-- A watermark is only good for the query that made it: the source's
-- fingerprint (directory, base DNs, filters, attribute map, preset) is kept
-- with it, and a run whose fingerprint differs is full. Rows from before
-- this migration have none, so their next run is full (always correct).
-- Each run records why it was full.
ALTER TABLE ldap_sync_state ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE ldap_sync_runs ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE ldap_sync_runs DROP COLUMN reason;
ALTER TABLE ldap_sync_state DROP COLUMN fingerprint;
