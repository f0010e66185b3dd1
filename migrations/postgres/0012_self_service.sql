-- The token of the session cookie a login link set in the person's browser (SHA-256):
-- the self-service page finds the user session by it. NULL until a link is used; a
-- later link for the same session replaces it (one device, one browser).
ALTER TABLE user_sessions ADD COLUMN cookie_token_hash BYTEA;
CREATE UNIQUE INDEX user_sessions_by_cookie ON user_sessions (cookie_token_hash);

-- One-time login links a host application made for a signed-in person: used once,
-- within minutes, they set the session cookie and open the self-service page.
CREATE TABLE login_links (
    -- SHA-256 of the link's token.
    token_hash BYTEA PRIMARY KEY,
    user_session_id TEXT NOT NULL REFERENCES user_sessions (id),
    -- The page path (`/account…`) the link opens, when not `/account` itself.
    return_to TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX login_links_by_expiry ON login_links (expires_at);

-- A person's own acts, for their page's recent activity.
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
