//! Group commit of token exchanges on SQLite (`crate::usecase::group_commit`): the
//! exchanges of a batch are read and judged together, by the same rules as one alone
//! (`plan_exchanges_in`), then written with one multi-row insert per table and one
//! commit. A refused exchange is answered at once and writes nothing; a database
//! failure fails the whole batch, which then wrote nothing either.

use crate::store::Tx;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::delegate_to_agent::{
    Exchange, IssuedAgentSession, Planned, plan_exchanges_in, write_in,
};
use crate::usecase::group_commit::{GroupCommit, Outcomes};

/// Token exchanges waiting to be issued together.
pub type IssuanceBatch = GroupCommit<Exchange, IssuedAgentSession>;

/// Issues `exchange` with whatever exchanges are pending.
pub async fn issue(app: &App, exchange: Exchange) -> Result<IssuedAgentSession, UsecaseError> {
    app.issuance
        .submit(app, "issuing token exchanges", exchange, issue_all)
        .await
}

async fn issue_all(
    app: App,
    mut tx: Tx,
    exchanges: Vec<Exchange>,
) -> Result<(Tx, Outcomes<IssuedAgentSession>), UsecaseError> {
    let outcomes = plan_exchanges_in(&mut tx, &app, &exchanges).await?;
    let planned: Vec<&Planned> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    if !planned.is_empty() {
        write_in(&mut tx, &planned).await?;
    }
    Ok((
        tx,
        outcomes
            .into_iter()
            .map(|outcome| outcome.map(|plan| plan.issued))
            .collect(),
    ))
}
