-- hallcall store on PostgreSQL, schema version 1.
--
-- events: every hall's log. The primary key (hall, seq) is also the fence:
-- an append whose seq is taken means another writer appended to the hall,
-- and it is refused instead of overwriting or interleaving.
CREATE TABLE events (
    hall TEXT NOT NULL,
    seq  BIGINT NOT NULL CHECK (seq > 0),
    -- The business date this event opened (set on `day_opened` only): the
    -- day index that statistics and retention read.
    day  DATE,
    -- The event as JSON, exactly as on the wire.
    body TEXT NOT NULL,
    PRIMARY KEY (hall, seq)
);
CREATE INDEX events_days ON events (hall, day) WHERE day IS NOT NULL;

-- snapshots: the latest snapshot of each hall (Hall::to_snapshot JSON),
-- never ahead of the committed log.
CREATE TABLE snapshots (
    hall TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL CHECK (seq >= 0),
    body BYTEA NOT NULL
);

-- leases: which node writes a hall, until when (used by multi-node
-- operation; nothing writes it yet).
CREATE TABLE leases (
    hall       TEXT PRIMARY KEY,
    node       TEXT NOT NULL,
    addr       TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
