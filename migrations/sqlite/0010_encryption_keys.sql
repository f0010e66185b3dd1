-- The encryption keys that may have sealed a value still stored, by id (derived from
-- the key; never the key). An instance that lacks one refuses to start, rather than
-- fail on what it cannot open or seal with a key the others cannot read; a finished
-- `leash keys rotate-encryption` leaves only the current one.
CREATE TABLE encryption_keys (
    key_id TEXT PRIMARY KEY,
    registered_at BIGINT NOT NULL
);
