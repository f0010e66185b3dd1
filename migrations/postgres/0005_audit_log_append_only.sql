-- The audit log is append-only, enforced by the database: no entry is deleted, and an
-- entry changes once, when the sealer sets its chain columns. Someone who can disable
-- this trigger can still rewrite rows; the hash chain (`leash audit verify`) shows it.

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit log is append-only';
    END IF;
    IF OLD.chain_position IS NOT NULL
        OR (NEW.seq, NEW.id, NEW.at, NEW.actor, NEW.action, NEW.target, NEW.cause,
            NEW.revocation_id, NEW.request_id)
           IS DISTINCT FROM
           (OLD.seq, OLD.id, OLD.at, OLD.actor, OLD.action, OLD.target, OLD.cause,
            OLD.revocation_id, OLD.request_id) THEN
        RAISE EXCEPTION 'the audit log is append-only: an entry is only sealed, once';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
