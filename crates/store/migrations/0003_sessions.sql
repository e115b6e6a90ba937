-- hallcall store on PostgreSQL, schema version 3: clerk sessions.
--
-- sessions: each clerk's current session per hall (the nonce its token
-- carries), so that a token issued by one node works on whichever node owns
-- the hall after a failover, and a logout, a new login or a supervisor's
-- "end session" on any node ends it for good. One row per (hall, staff): a
-- new login replaces the row, an end deletes it. Written only by the node
-- holding the hall's lease, checked in the same statement as for appends
-- (crates/store/src/pg/sessions.rs).
CREATE TABLE sessions (
    hall      TEXT NOT NULL,
    staff     TEXT NOT NULL,
    window_no BIGINT NOT NULL CHECK (window_no >= 0),
    -- Token nonce (hex) of this session.
    nonce     TEXT NOT NULL,
    -- The hall's business day at login; the session ends with that day.
    day       DATE,
    PRIMARY KEY (hall, staff)
);
