-- jiralinkd state schema, version 2: builds and deployments (state/ci.go),
-- Jira secret scanning (state/findings.go) and the keys routes dropped
-- (state/routes.go). Ids that hold NUL separators (finding and action ids)
-- are bytea, which PostgreSQL orders bytewise like bbolt.

CREATE TABLE ci_state (
    provider text NOT NULL,
    repo_id bigint NOT NULL,
    body bytea NOT NULL, -- JSON state.CIState
    PRIMARY KEY (provider, repo_id)
);

-- The run or deployment each issue's CI link shows.
CREATE TABLE ci_entries (
    provider text NOT NULL,
    repo_id bigint NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    issue text NOT NULL,
    body bytea NOT NULL, -- JSON state.CIEntry
    PRIMARY KEY (provider, repo_id, kind, name, issue)
);

-- The installation's fingerprint salt: one row, created once.
CREATE TABLE finding_salt (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    salt bytea NOT NULL
);

CREATE TABLE scan_cursors (
    project text COLLATE "C" NOT NULL PRIMARY KEY,
    body bytea NOT NULL -- JSON state.ScanCursor
);

CREATE TABLE findings (
    id bytea NOT NULL PRIMARY KEY, -- state.FindingID
    issue text COLLATE "C" NOT NULL, -- the id's issue part (upper case)
    state text NOT NULL,
    body bytea NOT NULL -- JSON state.Finding
);
CREATE INDEX findings_by_issue ON findings (issue, id);

CREATE TABLE finding_actions (
    id bytea NOT NULL PRIMARY KEY, -- state.FindingActionID
    state text NOT NULL,
    body bytea NOT NULL -- JSON state.FindingAction
);
CREATE INDEX finding_actions_pending ON finding_actions (id) WHERE state = 'pending';

CREATE TABLE route_drops (
    issue text COLLATE "C" NOT NULL, -- upper case
    global_id text COLLATE "C" NOT NULL,
    body bytea NOT NULL, -- JSON state.RouteDrop
    PRIMARY KEY (issue, global_id)
);

-- Imports of another backend's state (jiralinkd state migrate): the
-- webhook deliveries without an id are copied by the first import only.
CREATE TABLE state_imports (
    source text NOT NULL PRIMARY KEY,
    first_at timestamptz NOT NULL DEFAULT now(),
    last_at timestamptz NOT NULL DEFAULT now()
);
