-- jiralinkd state schema, version 1. Text that is compared or ordered as
-- in the bbolt backend (byte order) uses the "C" collation. Commit ids are
-- stored in binary form (state.SHAKey); values only jiralinkd reads are
-- stored as JSON in bytea.

CREATE TABLE repos (
    provider text NOT NULL,
    repo_id bigint NOT NULL,
    body bytea NOT NULL, -- JSON state.RepoState
    PRIMARY KEY (provider, repo_id)
);

CREATE TABLE discovery (
    provider text NOT NULL,
    key text NOT NULL,
    body bytea NOT NULL, -- JSON state.Discovery
    PRIMARY KEY (provider, key)
);

-- Indexed commits, closed under ancestry; parents as binary keys.
CREATE TABLE commits (
    provider text NOT NULL,
    repo_id bigint NOT NULL,
    sha bytea NOT NULL,
    parents bytea[] NOT NULL,
    PRIMARY KEY (provider, repo_id, sha)
);

-- Commits of unfinished branch walks; parents in state.EncodeParents form.
CREATE TABLE walk_commits (
    provider text NOT NULL,
    repo_id bigint NOT NULL,
    branch text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    sha bytea NOT NULL,
    parents bytea NOT NULL,
    PRIMARY KEY (provider, repo_id, branch, seq)
);

CREATE TABLE links (
    global_id text COLLATE "C" NOT NULL,
    issue text COLLATE "C" NOT NULL,
    hash bigint NOT NULL, -- the uint64 content hash, as its two's complement
    info bytea NOT NULL,  -- JSON state.LinkInfo
    PRIMARY KEY (global_id, issue)
);
CREATE INDEX links_by_issue ON links (issue, global_id);

CREATE TABLE issues (
    key text NOT NULL PRIMARY KEY,
    body bytea NOT NULL -- JSON state.IssueStatus
);

CREATE TABLE health (
    system text NOT NULL PRIMARY KEY,
    body bytea NOT NULL -- JSON state.Health
);

-- Delivery ids seen, for deduplication within the retention window.
CREATE TABLE delivery_ids (
    provider text NOT NULL,
    delivery_id text NOT NULL,
    received_ns bigint NOT NULL, -- Unix nanoseconds
    PRIMARY KEY (provider, delivery_id)
);
CREATE INDEX delivery_ids_received ON delivery_ids (received_ns);

-- Accepted webhook deliveries waiting to be processed. claimed_by and
-- claimed_until let workers of several replicas claim deliveries (SELECT
-- ... FOR UPDATE SKIP LOCKED) and take over those of a dead worker.
CREATE TABLE inbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider text NOT NULL,
    delivery_id text NOT NULL,
    body bytea NOT NULL, -- JSON state.Delivery
    received_at timestamptz NOT NULL,
    claimed_by text,
    claimed_until timestamptz
);

CREATE TABLE smart_pending (
    provider text NOT NULL,
    repo_id bigint NOT NULL,
    sha bytea NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    body bytea NOT NULL, -- JSON state.SmartPending
    PRIMARY KEY (provider, repo_id, sha)
);

-- The smart-commit ledger.
CREATE TABLE ledger (
    id text COLLATE "C" NOT NULL PRIMARY KEY,
    issue text NOT NULL,
    state text NOT NULL,
    body bytea NOT NULL -- JSON smartcommit.Record
);
CREATE INDEX ledger_by_issue ON ledger (issue);
CREATE INDEX ledger_pending ON ledger (id) WHERE state = 'pending';
CREATE INDEX ledger_failed ON ledger (id) WHERE state = 'failed';
