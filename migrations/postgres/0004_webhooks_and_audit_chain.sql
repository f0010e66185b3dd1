-- Webhooks (issue 4): endpoints and what they subscribe to, one delivery per event and
-- endpoint, every attempt; the dispatcher's place in the outbox; the audit hash chain.

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT,
    -- active | failing | disabled
    status TEXT NOT NULL,
    -- The signing secret sealed with the instance's encryption key (nonce ‖ ciphertext);
    -- the secret itself is shown once and never stored in plain text.
    secret_sealed BYTEA NOT NULL,
    -- The secret before the last rotation, which keeps signing until it expires.
    previous_secret_sealed BYTEA,
    previous_secret_expires_at BIGINT,
    -- Failed attempts since the last success: FAILING_AFTER of them mark it failing.
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- The event types an endpoint receives; none at all means every type. A table rather
-- than a list column so the dispatcher matches types with one indexed join.
CREATE TABLE webhook_subscriptions (
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, event_type)
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL,
    -- pending | succeeded | failed (out of retries)
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- A worker holds the delivery until then; after it, another may take it (the first
    -- one died between lease and send).
    leased_until BIGINT,
    created_at BIGINT NOT NULL
);

-- Leasing reads only due, pending deliveries, oldest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- Pruning keeps events a pending delivery still needs.
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_seq);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    -- NULL when no HTTP answer came (refused, timed out, address not allowed).
    status_code BIGINT,
    duration_ms BIGINT NOT NULL,
    error TEXT
);

-- An endpoint's attempts, newest first, page by page.
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);

-- The last outbox event turned into deliveries. One row; the dispatcher locks it, so
-- one instance dispatches at a time.
CREATE TABLE webhook_dispatch (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_event_seq BIGINT NOT NULL
);
INSERT INTO webhook_dispatch (id, last_event_seq) VALUES (1, 0);

-- The audit hash chain. Entries are appended in their acts' transactions and sealed in
-- order soon after by one sealer: chain_position, the previous entry's hash, and the
-- SHA-256 of that hash and this entry's fields.
ALTER TABLE audit_log ADD COLUMN chain_position BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash BYTEA;
ALTER TABLE audit_log ADD COLUMN hash BYTEA;
CREATE UNIQUE INDEX audit_log_by_chain_position ON audit_log (chain_position);
CREATE INDEX audit_log_unsealed ON audit_log (seq) WHERE chain_position IS NULL;
-- "What happened to this user (agent, endpoint)": the audit API's target filter. Its
-- actor and action filters read in seq order instead: indexes on those two cost 17% of
-- SQLite's token-exchange rate (3,379 -> 2,779/s, measured), one audit entry each.
CREATE INDEX audit_log_by_target ON audit_log (target, seq);

-- The chain's last sealed position and hash (position 0: 32 zero bytes). The sealer
-- locks it; `leash audit verify` checks the chain ends where the head says.
CREATE TABLE audit_chain_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_chain_head (id, position, hash) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);

-- Retention prunes events by age.
CREATE INDEX events_by_created_at ON events (created_at);
