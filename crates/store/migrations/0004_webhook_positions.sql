-- hallcall store on PostgreSQL, schema version 4: webhook positions.
--
-- webhook_positions: the seq of the last event each webhook of a hall has
-- delivered (or passed over as unwanted), shared by every node, so the
-- hall's next owner after a failover goes on from where the last one got
-- to: nothing skipped, little repeated. Written only by the node holding
-- the hall's lease, checked in the same statement
-- (crates/store/src/pg/sessions.rs).
CREATE TABLE webhook_positions (
    hall TEXT NOT NULL,
    -- The hook's key: its `id`, or its URL.
    hook TEXT NOT NULL,
    seq  BIGINT NOT NULL CHECK (seq >= 0),
    PRIMARY KEY (hall, hook)
);
