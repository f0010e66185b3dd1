-- The audit log is append-only, enforced by the database: no entry is deleted, and an
-- entry changes once, when the sealer sets its chain columns. Someone who can drop these
-- triggers can still rewrite rows; the hash chain (`leash audit verify`) shows it.

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_seal_only BEFORE UPDATE ON audit_log
WHEN OLD.chain_position IS NOT NULL
    OR NEW.seq IS NOT OLD.seq OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at
    OR NEW.actor IS NOT OLD.actor OR NEW.action IS NOT OLD.action
    OR NEW.target IS NOT OLD.target OR NEW.cause IS NOT OLD.cause
    OR NEW.revocation_id IS NOT OLD.revocation_id OR NEW.request_id IS NOT OLD.request_id
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: an entry is only sealed, once');
END;
