-- +goose Up
-- users_org_source_external (00004) holds the same columns as the unique
-- users_org_external (00001), which leaves out the native users' empty
-- external ids: every lookup by external id now says external_id <> '' and
-- reads the unique index, so the copy only cost a write per user (a first
-- directory sync of 100,000 users inserted 100,000 random keys into it).
DROP INDEX users_org_source_external;

-- +goose Down
CREATE INDEX users_org_source_external ON users(org_id, source, external_id);
