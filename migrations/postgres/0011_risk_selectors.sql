-- Where a user session signed in from, as a sortable key: the 16-byte address (an IPv4
-- address in its IPv4-mapped form) in 32 lowercase hex digits, so a CIDR block is one
-- range of the index (compared bytewise: collation "C"). '' when ip_address is not an
-- address. Rows from before this column are filled in at start-up
-- (`store::user_sessions::fill_ip_keys`).
ALTER TABLE user_sessions ADD COLUMN ip_key TEXT COLLATE "C";
CREATE INDEX user_sessions_by_ip ON user_sessions (ip_key);
-- What the start-up pass has left to fill: empty once it has run.
CREATE INDEX user_sessions_without_ip_key ON user_sessions (id) WHERE ip_key IS NULL AND ip_address IS NOT NULL;

-- A selector revocation done under an Idempotency-Key: a retry with the same key (from
-- the same caller) answers this revocation again, and one with another request under
-- it is refused. Kept 24 hours.
CREATE TABLE idempotency_keys (
    -- Who asked (the API key's id): keys are per caller.
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    -- SHA-256 of the request as understood, hex.
    request_hash TEXT NOT NULL,
    -- Set by the transaction that claims the key, before it commits.
    revocation_id TEXT REFERENCES revocations (id),
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
