//! Group commit. SQLite runs one write transaction at a time, and each statement costs
//! a round trip to the connection's worker thread, so one act per transaction bounds
//! the rate by the statements each act needs under the write lock. Acts that arrive
//! while a batch is being written queue here, and the next of them to get the baton
//! runs them all in one transaction: one read per kind for the whole batch, one
//! multi-row write per table, one commit.
//!
//! Every submitter waits for the baton after queueing, so each job is run by itself or
//! by a submitter ahead of it; none is left behind. The batch runs in a task of its own,
//! so a submitter that goes away (its client hung up) does not abandon it half-way.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, oneshot};

use crate::store::Tx;
use crate::usecase::{App, UsecaseError};

/// Where one job's outcome goes.
type Reply<O> = oneshot::Sender<Result<O, UsecaseError>>;

pub struct GroupCommit<J, O> {
    pending: Mutex<Vec<(J, Reply<O>)>>,
    baton: AsyncMutex<()>,
}

impl<J, O> Default for GroupCommit<J, O> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            baton: AsyncMutex::new(()),
        }
    }
}

impl<J, O> std::fmt::Debug for GroupCommit<J, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

/// What a batch's jobs came to, each answered once the transaction committed.
pub type Outcomes<O> = Vec<Result<O, UsecaseError>>;

impl<J: Send + 'static, O: Send + 'static> GroupCommit<J, O> {
    /// Queues `job` and answers its outcome, once a batch holding it committed. `run`
    /// is given every job pending when a submitter took the baton, in a transaction
    /// begun for them, and answers one outcome per job in order; the outer error (the
    /// database failed) fails every job of the batch, which then wrote nothing.
    pub async fn submit<F, Fut>(
        &self,
        app: &App,
        what: &'static str,
        job: J,
        run: F,
    ) -> Result<O, UsecaseError>
    where
        F: FnOnce(App, Tx, Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(Tx, Outcomes<O>), UsecaseError>> + Send + 'static,
    {
        let (reply, mut answer) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((job, reply));
        // Answered by a batch another submitter ran, or take the baton and run what is
        // pending (ours included, unless a batch took it meanwhile).
        tokio::select! {
            biased;
            answered = &mut answer => return settled(answered),
            _baton = self.baton.lock() => {
                let jobs = std::mem::take(
                    &mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner),
                );
                if !jobs.is_empty() {
                    let _ = tokio::spawn(run_batch(app.clone(), what, jobs, run)).await;
                }
            }
        }
        settled(answer.await)
    }
}

async fn run_batch<J, O, F, Fut>(app: App, what: &'static str, jobs: Vec<(J, Reply<O>)>, run: F)
where
    F: FnOnce(App, Tx, Vec<J>) -> Fut,
    Fut: Future<Output = Result<(Tx, Outcomes<O>), UsecaseError>>,
{
    let (jobs, replies): (Vec<J>, Vec<Reply<O>>) = jobs.into_iter().unzip();
    let ran = match app.db.begin().await {
        Ok(tx) => run(app, tx, jobs).await,
        Err(error) => Err(error.into()),
    };
    let committed = match ran {
        Ok((tx, outcomes)) => tx
            .commit()
            .await
            .map(|()| outcomes)
            .map_err(UsecaseError::from),
        Err(error) => Err(error),
    };
    match committed {
        Ok(outcomes) => {
            for (outcome, reply) in outcomes.into_iter().zip(replies) {
                let _ = reply.send(outcome);
            }
        }
        Err(error) => {
            tracing::error!(cause = %error, "{what}: the batch failed");
            for reply in replies {
                let _ = reply.send(Err(UsecaseError::IssuanceFailed(error.to_string())));
            }
        }
    }
}

fn settled<O>(
    answered: Result<Result<O, UsecaseError>, oneshot::error::RecvError>,
) -> Result<O, UsecaseError> {
    answered.unwrap_or_else(|_| {
        Err(UsecaseError::IssuanceFailed(
            "the batch was abandoned".to_owned(),
        ))
    })
}
