-- Foundation: API keys, users, user sessions, revocations, the outbox and the audit log.
-- Timestamps are Unix milliseconds (BIGINT) on both engines, so one SQL text compares
-- them everywhere and indexes order them numerically.

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    -- SHA-256 of the key; the key itself is shown once and never stored.
    key_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    -- The host application's own id for this human; creating a user is idempotent on it.
    external_id TEXT NOT NULL UNIQUE,
    email TEXT,
    display_name TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE revocations (
    id TEXT PRIMARY KEY,
    cause TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    -- The selector as JSON, so an operator can see what an act aimed at.
    selector TEXT NOT NULL,
    user_sessions_revoked BIGINT NOT NULL,
    agent_sessions_revoked BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE user_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    -- SHA-256 of the bearer token; introspection looks sessions up by it.
    token_hash BYTEA NOT NULL UNIQUE,
    status TEXT NOT NULL,
    ip_address TEXT,
    user_agent TEXT,
    created_at BIGINT NOT NULL,
    -- Written at most once a minute per session (see LAST_SEEN_WRITE_INTERVAL).
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    idle_timeout_ms BIGINT NOT NULL,
    revoked_at BIGINT,
    revocation_id TEXT REFERENCES revocations (id),
    revocation_cause TEXT
);

-- Revoking "every active session of a user" reads only the rows it will hit.
CREATE INDEX user_sessions_active_by_user ON user_sessions (user_id) WHERE status = 'active';
-- Listing a user's sessions, newest first, page by page.
CREATE INDEX user_sessions_by_user ON user_sessions (user_id, id);
-- The outbox events of a revocation are written from the rows it hit.
CREATE INDEX user_sessions_by_revocation ON user_sessions (revocation_id);

CREATE TABLE events (
    -- The cursor order of the events API.
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    cause TEXT,
    revocation_id TEXT,
    request_id TEXT
);
