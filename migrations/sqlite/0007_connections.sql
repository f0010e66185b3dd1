-- Integrations: a user's connection to an upstream OAuth provider, its tokens sealed;
-- the authorizations in flight; and the upstream revocations a disconnect owes.

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    -- A configured provider's id (`[[providers]]`).
    provider TEXT NOT NULL,
    -- connected | needs_reauthorization | disconnected
    status TEXT NOT NULL,
    -- The upstream scopes the provider granted, space-separated.
    granted_scopes TEXT NOT NULL,
    -- The tokens sealed with the instance's encryption key, bound to this row; NULL
    -- once destroyed by a disconnect.
    access_token_sealed BLOB,
    refresh_token_sealed BLOB,
    -- When the access token expires, if the provider said.
    token_expires_at BIGINT,
    -- Bumped by every write of the tokens: a refresh writes only over the version it
    -- read, so two instances never both rotate a grant.
    version BIGINT NOT NULL,
    connected_at BIGINT NOT NULL,
    last_refreshed_at BIGINT,
    disconnected_at BIGINT,
    updated_at BIGINT NOT NULL
);

-- One live connection per user and provider; a disconnected one stays for its receipt.
CREATE UNIQUE INDEX connections_live ON connections (user_id, provider) WHERE status <> 'disconnected';
CREATE INDEX connections_by_user ON connections (user_id, id);

-- An authorization started and not yet finished: the state is single use, bound to the
-- user session that started it, and stored hashed.
CREATE TABLE oauth_states (
    state_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    user_session_id TEXT NOT NULL REFERENCES user_sessions (id),
    provider TEXT NOT NULL,
    -- The PKCE verifier, sealed and bound to the state's hash.
    pkce_verifier_sealed BLOB,
    requested_scopes TEXT NOT NULL,
    return_to TEXT,
    -- Whether authorize was called with the session cookie: then the callback needs it.
    cookie_bound BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);
