-- Agent sessions: live delegations from a user (through a user session) to an agent,
-- and from one agent session on to another (sub-delegation). Tokens are stored as
-- SHA-256 hashes only.

-- Per-agent lifetime of its sessions; NULL means the configured defaults.
ALTER TABLE agents ADD COLUMN session_ttl_ms BIGINT;
ALTER TABLE agents ADD COLUMN session_idle_timeout_ms BIGINT;

CREATE TABLE agent_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    agent_id TEXT NOT NULL REFERENCES agents (id),
    grant_id TEXT NOT NULL REFERENCES grants (id),
    -- The user session at the root of the tree, on every node: revoking a user session
    -- reaches its whole tree in one indexed statement, without recursion.
    user_session_id TEXT NOT NULL REFERENCES user_sessions (id),
    parent_id TEXT REFERENCES agent_sessions (id),
    depth INTEGER NOT NULL,
    -- The agents of the chain, nearest first, as a JSON array of ids: events carry it
    -- from set-based SQL, introspection answers it as nested `act`.
    agent_chain TEXT NOT NULL,
    -- The ancestors' ids, nearest first, as a JSON array: a use of this session is
    -- recorded on them too, so a tree in use does not idle out from the top.
    ancestor_ids TEXT NOT NULL,
    scopes TEXT NOT NULL,
    access_hash BLOB NOT NULL UNIQUE,
    access_issued_at BIGINT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Written behind, at most once a minute per session, like user_sessions.last_seen_at.
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    idle_timeout_ms BIGINT NOT NULL,
    revoked_at BIGINT,
    revocation_id TEXT REFERENCES revocations (id),
    revocation_cause TEXT
);

-- Each cascade reads only the active rows it may hit.
CREATE INDEX agent_sessions_active_by_user ON agent_sessions (user_id) WHERE status = 'active';
CREATE INDEX agent_sessions_active_by_user_session ON agent_sessions (user_session_id) WHERE status = 'active';
CREATE INDEX agent_sessions_active_by_grant ON agent_sessions (grant_id) WHERE status = 'active';
CREATE INDEX agent_sessions_active_by_agent ON agent_sessions (agent_id) WHERE status = 'active';
-- Descendants, for the recursive cascade.
CREATE INDEX agent_sessions_by_parent ON agent_sessions (parent_id) WHERE parent_id IS NOT NULL;
-- Listing a user's agent sessions, newest first, page by page.
CREATE INDEX agent_sessions_by_user ON agent_sessions (user_id, id);
-- The outbox events of a revocation are written from the rows it hit.
CREATE INDEX agent_sessions_by_revocation ON agent_sessions (revocation_id);

-- The scopes of each agent session, one per row, so that narrowing a grant or a
-- ceiling finds the sessions holding a scope no longer allowed in one statement.
CREATE TABLE agent_session_scopes (
    agent_session_id TEXT NOT NULL REFERENCES agent_sessions (id),
    scope TEXT NOT NULL,
    PRIMARY KEY (agent_session_id, scope)
);

-- Refresh tokens. Each refresh retires the presented token and issues its successor;
-- the family is the agent session. A retired token presented after the grace window
-- revokes the family.
CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    agent_session_id TEXT NOT NULL REFERENCES agent_sessions (id),
    issued_at BIGINT NOT NULL,
    -- When it was exchanged for its successor; NULL while it is the current one.
    rotated_at BIGINT
);
CREATE INDEX refresh_tokens_by_agent_session ON refresh_tokens (agent_session_id);
