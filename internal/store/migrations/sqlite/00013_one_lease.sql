-- +goose Up
-- One lease mechanism: a directory source's run lease moves from the
-- ldap_sync_state columns into the leases table (name directory-run:<source>),
-- where the jobs' and the schedules' leases already are. A lease held while
-- the database is upgraded is carried across.
INSERT INTO leases (name, owner, until)
SELECT 'directory-run:' || source, lease_owner, lease_until FROM ldap_sync_state
WHERE lease_owner <> '' AND lease_until IS NOT NULL
ON CONFLICT (name) DO NOTHING;
ALTER TABLE ldap_sync_state DROP COLUMN lease_owner;
ALTER TABLE ldap_sync_state DROP COLUMN lease_until;

-- +goose Down
ALTER TABLE ldap_sync_state ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE ldap_sync_state ADD COLUMN lease_until TIMESTAMP;
DELETE FROM leases WHERE name LIKE 'directory-run:%';
