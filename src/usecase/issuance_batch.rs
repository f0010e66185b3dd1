//! Group commit of token exchanges (`crate::usecase::group_commit`): the exchanges of a
//! batch are read and judged together, by the same rules as one alone
//! (`plan_exchanges_in`), then written with one multi-row insert per table and one
//! commit. A refused exchange is answered at once and writes nothing; a database
//! failure fails the whole batch, which then wrote nothing either. On PostgreSQL an
//! exchange under a row another act holds for update leaves the batch and is issued
//! alone, so one revocation in progress does not hold up everyone's issuance.

use crate::store::Tx;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::delegate_to_agent::{
    Exchange, IssuedAgentSession, Planned, Planning, exchange_alone, plan_exchanges_in, write_in,
};
use crate::usecase::group_commit::{GroupCommit, Outcomes};

/// What a batch did with one exchange.
#[derive(Debug)]
pub enum Batched {
    Issued(IssuedAgentSession),
    /// Handed back, to issue alone.
    Contended(Exchange),
}

/// Token exchanges waiting to be issued together.
pub type IssuanceBatch = GroupCommit<Exchange, Batched>;

/// Issues `exchange` with whatever exchanges are pending.
pub async fn issue(app: &App, exchange: Exchange) -> Result<IssuedAgentSession, UsecaseError> {
    match app
        .issuance
        .submit(app, "issuing token exchanges", exchange, issue_all)
        .await?
    {
        Batched::Issued(issued) => Ok(issued),
        Batched::Contended(exchange) => exchange_alone(app, &exchange).await,
    }
}

async fn issue_all(
    app: App,
    mut tx: Tx,
    exchanges: Vec<Exchange>,
) -> Result<(Tx, Outcomes<Batched>), UsecaseError> {
    let planning = plan_exchanges_in(&mut tx, &app, &exchanges).await?;
    let planned: Vec<&Planned> = planning
        .iter()
        .filter_map(|p| match p {
            Planning::Planned(planned) => Some(&**planned),
            _ => None,
        })
        .collect();
    if !planned.is_empty() {
        write_in(&mut tx, &planned).await?;
    }
    let outcomes = planning
        .into_iter()
        .zip(exchanges)
        .map(|(planning, exchange)| match planning {
            Planning::Planned(plan) => Ok(Batched::Issued(plan.issued)),
            Planning::Refused(refused) => Err(refused),
            Planning::Contended => Ok(Batched::Contended(exchange)),
        })
        .collect();
    Ok((tx, outcomes))
}
