-- API keys can expire and be revoked; their last use is kept (to within a minute) so an
-- operator can tell a key still in use from a forgotten one.
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
