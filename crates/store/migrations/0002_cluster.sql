-- hallcall store on PostgreSQL, schema version 2: several nodes.
--
-- nodes: the live hallcall nodes (each renews its row about every second;
-- a row whose expires_at has passed is a dead or frozen node). Halls are
-- spread over the live ones.
CREATE TABLE nodes (
    node       TEXT PRIMARY KEY,
    addr       TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- leases (created in version 1): which node writes a hall until when, on
-- the database's clock. Every append of a node checks its lease in the
-- same statement (see crates/store/src/pg/commit.rs).
CREATE INDEX leases_node ON leases (node);
