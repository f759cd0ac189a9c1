-- +goose Up
-- Leases: which process (replica) runs a singleton task (a background job,
-- a directory source's schedule) until when. The holder renews its lease
-- before it runs out; when the holder dies, another takes it after until.
CREATE TABLE leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE leases;
