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

-- Risk signals security systems sent, each with what the risk policy did about it.
-- (source, signal_id) is unique: a signal sent again is answered from here, and a
-- Security Event Token's jti (source: its issuer) is never acted on twice.
CREATE TABLE risk_signals (
    id TEXT PRIMARY KEY,
    -- Who sent it: an API key's id, or a transmitter's issuer.
    source TEXT NOT NULL,
    -- The sender's id for it (or this row's id when it gave none).
    signal_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    -- JSON: the subject as sent, and the evidence.
    subject TEXT NOT NULL,
    evidence TEXT,
    occurred_at BIGINT,
    received_at BIGINT NOT NULL,
    -- The rule that decided (its position in the policy), if any did.
    rule_position BIGINT,
    -- JSON: each action and what came of it.
    outcomes TEXT NOT NULL,
    UNIQUE (source, signal_id)
);

-- Addresses and blocks refused sign-ins and token exchanges until they expire or are
-- lifted. The range's keys are ip_key's form, so a check is one index range.
CREATE TABLE ip_blocks (
    id TEXT PRIMARY KEY,
    ip_range TEXT NOT NULL,
    first_key TEXT COLLATE "C" NOT NULL,
    last_key TEXT COLLATE "C" NOT NULL,
    reason TEXT,
    -- Who blocked it: an API key's id.
    actor TEXT NOT NULL,
    risk_signal_id TEXT REFERENCES risk_signals (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    lifted_at BIGINT,
    lifted_by TEXT
);
CREATE INDEX ip_blocks_in_force ON ip_blocks (first_key) WHERE lifted_at IS NULL;
