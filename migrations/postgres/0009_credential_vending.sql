-- Credential vending: a connection's refresh is claimed by one instance at a time (a
-- lease, so a crash strands nothing beyond it), and a refresh the provider could not
-- answer is not tried again before its backoff ends.
ALTER TABLE connections ADD COLUMN refresh_claimed_until BIGINT;
ALTER TABLE connections ADD COLUMN refresh_backoff_until BIGINT;
