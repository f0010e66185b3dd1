-- Agents (registered agent runtimes) and grants (a user's consent for one agent).
-- Scope sets are stored space-separated, as OAuth writes them: a scope never holds a space.

CREATE TABLE agents (
    -- Also the agent's OAuth client_id.
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- The ceiling: the most this agent may ever hold.
    scopes TEXT NOT NULL,
    -- SHA-256 of the client secret; the secret is shown once and never stored.
    secret_hash BLOB NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    secret_rotated_at BIGINT NOT NULL
);

CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    agent_id TEXT NOT NULL REFERENCES agents (id),
    scopes TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One active grant per user and agent: consent is looked up by the pair.
CREATE UNIQUE INDEX grants_active_by_user_agent ON grants (user_id, agent_id) WHERE status = 'active';
-- Listing a user's grants, page by page; and every grant of an agent (ceiling changes).
CREATE INDEX grants_by_user ON grants (user_id, id);
CREATE INDEX grants_by_agent ON grants (agent_id);
