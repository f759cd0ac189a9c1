-- +goose Up
-- PostgreSQL twin of the SQLite migration with the same number.
-- Leases: which process (replica) runs a singleton task (a background job,
-- a directory source's schedule) until when. The holder renews its lease
-- before it runs out; when the holder dies, another takes it after until.
CREATE TABLE leases (
    name  TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT COLLATE "C" NOT NULL,
    until TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE leases;
