-- jiralinkd state schema, version 3: several replicas on one database.

-- Leases: the replica whose holder is named leads until expires_at (the
-- database's clock); epoch grows whenever the lease changes hands or is
-- taken again after it expired, and fences the writes of older leaders.
CREATE TABLE lease (
    name text PRIMARY KEY,
    holder text NOT NULL,
    epoch bigint NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Every replica's heartbeat, for the status page.
CREATE TABLE replicas (
    id text PRIMARY KEY,
    host text NOT NULL,
    version text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    heartbeat timestamptz NOT NULL,
    is_leader boolean NOT NULL DEFAULT false,
    epoch bigint NOT NULL DEFAULT 0
);

-- Per-repo sync locks with an expiry, so a dead or paused holder never
-- blocks the others.
CREATE TABLE repo_locks (
    provider text NOT NULL,
    repo_id bigint NOT NULL,
    holder text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (provider, repo_id)
);

-- Resyncs asked of any replica, run by the leader.
CREATE TABLE resync_requests (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider text NOT NULL,
    full_name text NOT NULL,
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX inbox_claimable ON inbox (claimed_until, seq);
