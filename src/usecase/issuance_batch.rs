//! Group commit of token exchanges on SQLite. SQLite runs one write transaction at a
//! time, and each statement costs a round trip to the connection's worker thread, so
//! issuing one exchange per transaction bounds the rate by the statements each one
//! needs under the write lock. Exchanges that arrive while a batch is being written
//! queue here, and the next of them to get the baton issues them all in one
//! transaction: one read per kind for the whole batch, the same rules for each
//! (`plan_exchanges_in`), then one multi-row insert per table and one commit.
//!
//! Every exchange waits for the baton after queueing, so each one is issued by itself
//! or by a submitter ahead of it; none is left behind. A refused exchange is answered
//! at once and writes nothing; a database failure fails the whole batch, which then
//! wrote nothing either.

use std::sync::{Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, oneshot};

use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::delegate_to_agent::{
    Exchange, IssuedAgentSession, Planned, plan_exchanges_in, write_in,
};

type Reply = oneshot::Sender<Result<IssuedAgentSession, UsecaseError>>;

#[derive(Debug, Default)]
pub struct IssuanceBatch {
    pending: Mutex<Vec<(Exchange, Reply)>>,
    baton: AsyncMutex<()>,
}

impl IssuanceBatch {
    pub async fn issue(
        &self,
        app: &App,
        exchange: Exchange,
    ) -> Result<IssuedAgentSession, UsecaseError> {
        let (reply, mut answer) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((exchange, reply));
        // Answered by a batch another submitter wrote, or take the baton and write what is
        // pending (ours included, unless a batch took it meanwhile).
        tokio::select! {
            biased;
            answered = &mut answer => return settled(answered),
            _baton = self.baton.lock() => {
                let jobs = std::mem::take(
                    &mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner),
                );
                if !jobs.is_empty() {
                    // A task of its own, so a submitter that goes away (its client hung
                    // up) does not abandon the batch half-way.
                    let app = app.clone();
                    let _ = tokio::spawn(async move { issue_all(&app, jobs).await }).await;
                }
            }
        }
        settled(answer.await)
    }
}

fn settled(
    answered: Result<Result<IssuedAgentSession, UsecaseError>, oneshot::error::RecvError>,
) -> Result<IssuedAgentSession, UsecaseError> {
    answered.unwrap_or_else(|_| {
        Err(UsecaseError::IssuanceFailed(
            "the batch was abandoned".to_owned(),
        ))
    })
}

async fn issue_all(app: &App, jobs: Vec<(Exchange, Reply)>) {
    let mut tx = match app.db.begin().await {
        Ok(tx) => tx,
        Err(error) => return fail(jobs.into_iter().map(|(_, reply)| reply), &error.to_string()),
    };
    let (exchanges, replies): (Vec<Exchange>, Vec<Reply>) = jobs.into_iter().unzip();
    let outcomes = match plan_exchanges_in(&mut tx, app, &exchanges).await {
        Ok(outcomes) => outcomes,
        Err(error) => return fail(replies.into_iter(), &error.to_string()),
    };
    let mut planned: Vec<(Planned, Reply)> = Vec::with_capacity(outcomes.len());
    for (outcome, reply) in outcomes.into_iter().zip(replies) {
        match outcome {
            Ok(plan) => planned.push((plan, reply)),
            Err(refused) => {
                let _ = reply.send(Err(refused));
            }
        }
    }
    if planned.is_empty() {
        return;
    }
    let (plans, replies): (Vec<Planned>, Vec<Reply>) = planned.into_iter().unzip();
    let written = match write_in(&mut tx, &plans).await {
        Ok(()) => tx.commit().await.map_err(UsecaseError::from),
        Err(error) => Err(error),
    };
    match written {
        Ok(()) => {
            for (plan, reply) in plans.into_iter().zip(replies) {
                let _ = reply.send(Ok(plan.issued));
            }
        }
        Err(error) => fail(replies.into_iter(), &error.to_string()),
    }
}

fn fail(replies: impl Iterator<Item = Reply>, cause: &str) {
    tracing::error!(%cause, "issuing a batch of token exchanges failed");
    for reply in replies {
        let _ = reply.send(Err(UsecaseError::IssuanceFailed(cause.to_owned())));
    }
}
