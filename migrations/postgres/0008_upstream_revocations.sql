-- What a disconnect owes the provider: one row per token to revoke there (RFC 7009).
-- The disconnect destroys the connection's own copies of its tokens, so each row holds
-- its own, sealed and bound to the row, until the provider confirmed or the retries ran
-- out; then the copy is destroyed and the row stays as the receipt.
CREATE TABLE upstream_revocations (
    id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections (id),
    provider TEXT NOT NULL,
    -- access_token | refresh_token
    token_kind TEXT NOT NULL,
    token_sealed BYTEA,
    -- pending | revoked | not_supported | failed
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- A worker holds the row until then; after it, another may take it.
    leased_until BIGINT,
    -- The provider's last answer (or why none came), for the receipt.
    last_answer TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);

CREATE INDEX upstream_revocations_due ON upstream_revocations (next_attempt_at) WHERE status = 'pending';
CREATE INDEX upstream_revocations_by_connection ON upstream_revocations (connection_id);
