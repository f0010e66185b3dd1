//! Asking the pre-issuance hook (`crate::domain::issuance_hook`) about a session planned
//! from reads without locks, before the issuance opens its transaction: a slow hook
//! holds no lock and no connection. The decision is counted, logged with its reason,
//! and audited: an allow with the session it lets through (the same transaction), a
//! refusal in a transaction of its own.

use crate::domain::actor::Actor;
use crate::domain::agent_session::AgentSession;
use crate::domain::audit::AuditEntry;
use crate::domain::issuance_hook::{Decision, HookRequest, HookUser, IssuanceKind, RequestOrigin};
use crate::domain::scope::ScopeSet;
use crate::store;
use crate::upstream::issuance_hook::IssuanceHook;
use crate::usecase::{App, UsecaseError};

/// What the hook let through: at most these scopes, and the decision's audit entry,
/// written with the session.
#[derive(Debug)]
pub(super) struct Approval {
    pub scopes: ScopeSet,
    pub audit: AuditEntry,
}

/// Asks `hook` whether `prospect` (planned for `actor`, not issued, to the agent named
/// `agent_name`) may be issued.
pub(super) async fn approve(
    app: &App,
    hook: &IssuanceHook,
    actor: &Actor,
    (prospect, agent_name): (&AgentSession, &str),
    origin: RequestOrigin,
    kind: IssuanceKind,
) -> Result<Approval, UsecaseError> {
    let user = store::users::get(&app.db, &prospect.user_id)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let request = HookRequest::for_session(
        prospect,
        HookUser {
            id: user.id,
            external_id: user.external_id,
            email: user.email,
        },
        agent_name,
        origin,
        kind,
    );
    let decision = Decision::of(hook.ask(&request).await, hook.config.on_failure);
    app.counters.issuance_hook_decided(&decision);
    // The session delegated from: what the issuance would have hung from.
    let from = prospect
        .parent_id
        .as_ref()
        .map_or(prospect.user_session_id.as_str(), |parent| parent.as_str());
    let audit = AuditEntry::new(actor, decision.audit_action(), from, app.clock.now());
    match decision {
        Decision::Allowed => Ok(Approval {
            scopes: prospect.scopes.clone(),
            audit,
        }),
        Decision::FailedOpen(failure) => {
            tracing::warn!(%failure, delegated_from = from, "pre-issuance hook failed; issuing (fail_open)");
            Ok(Approval {
                scopes: prospect.scopes.clone(),
                audit,
            })
        }
        Decision::Denied { reason } => {
            tracing::info!(
                reason = reason.as_deref().unwrap_or(""),
                delegated_from = from,
                "pre-issuance hook denied an issuance"
            );
            audit_refusal(app, &audit).await?;
            Err(UsecaseError::IssuanceDenied { reason })
        }
        Decision::FailedClosed(failure) => {
            tracing::warn!(%failure, delegated_from = from, "pre-issuance hook failed; refusing (fail_closed)");
            audit_refusal(app, &audit).await?;
            Err(UsecaseError::IssuanceHookUnavailable)
        }
    }
}

async fn audit_refusal(app: &App, entry: &AuditEntry) -> Result<(), UsecaseError> {
    let mut tx = app.db.begin().await?;
    store::audit::append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}
