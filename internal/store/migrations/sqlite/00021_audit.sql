-- +goose Up
-- The organisation's audit log reads history newest first, keyset paged by
-- id, narrowed by actor or action (by user: history_target serves it).
CREATE INDEX history_org ON history(org_id, id);
CREATE INDEX history_actor ON history(org_id, actor_name, id);
CREATE INDEX history_action ON history(org_id, action, id);

-- +goose Down
DROP INDEX history_action;
DROP INDEX history_actor;
DROP INDEX history_org;
