//! Group commit. SQLite runs one write transaction at a time, and each statement costs
//! a round trip to the connection's worker thread, so one act per transaction bounds
//! the rate by the statements each act needs under the write lock. Acts that arrive
//! while a batch is being written queue here and are run together in the next batch:
//! one read per kind for the whole batch, one multi-row write per table, one commit.
//!
//! On PostgreSQL, which runs many write transactions at once, each batch still saves
//! its acts most of their round trips and commits, and several batches run side by
//! side (its lanes), so one batch's commit flush does not hold up the next.
//!
//! The submitter that finds a lane free starts a task that runs batches back to back,
//! each with every job pending when it began, until none is left; it holds the lane
//! throughout. Every submitter waits for a lane after queueing, so each job is run by a
//! batch that took it or by the submitter itself; none is left behind. Batches run in a
//! task of their own, so a submitter that goes away (its client hung up) does not
//! abandon one half-way.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::store::Tx;
use crate::usecase::{App, UsecaseError};

/// Where one job's outcome goes.
type Reply<O> = oneshot::Sender<Result<O, UsecaseError>>;

/// Jobs waiting for a batch.
type Pending<J, O> = Arc<Mutex<Vec<(J, Reply<O>)>>>;

pub struct GroupCommit<J, O> {
    pending: Pending<J, O>,
    lanes: Arc<Semaphore>,
}

impl<J, O> GroupCommit<J, O> {
    /// Runs at most `lanes` batches at once (at least one).
    pub fn new(lanes: usize) -> Self {
        Self {
            pending: Arc::new(Mutex::new(Vec::new())),
            lanes: Arc::new(Semaphore::new(lanes.max(1))),
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
    /// is given the jobs of one batch, in a transaction begun for them, and answers one
    /// outcome per job in order; the outer error (the database failed) fails every job
    /// of the batch, which then wrote nothing.
    pub async fn submit<F, Fut>(
        &self,
        app: &App,
        what: &'static str,
        job: J,
        run: F,
    ) -> Result<O, UsecaseError>
    where
        F: Fn(App, Tx, Vec<J>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(Tx, Outcomes<O>), UsecaseError>> + Send + 'static,
    {
        let (reply, mut answer) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((job, reply));
        // Answered by a batch already running, or take a lane and run batches until
        // nothing is pending (ours included, unless a batch took it meanwhile). The
        // semaphore is never closed.
        tokio::select! {
            biased;
            answered = &mut answer => return settled(answered),
            Ok(lane) = Arc::clone(&self.lanes).acquire_owned() => {
                tokio::spawn(drain(app.clone(), what, Arc::clone(&self.pending), lane, run));
            }
        }
        settled(answer.await)
    }
}

/// Runs batches back to back while jobs are pending, then lets the lane go. A job
/// queued after the last look finds a lane free, or a newer drain in one.
async fn drain<J, O, F, Fut>(
    app: App,
    what: &'static str,
    pending: Pending<J, O>,
    _lane: OwnedSemaphorePermit,
    run: F,
) where
    F: Fn(App, Tx, Vec<J>) -> Fut,
    Fut: Future<Output = Result<(Tx, Outcomes<O>), UsecaseError>>,
{
    loop {
        let jobs = std::mem::take(&mut *pending.lock().unwrap_or_else(PoisonError::into_inner));
        if jobs.is_empty() {
            return;
        }
        run_batch(app.clone(), what, jobs, &run).await;
    }
}

async fn run_batch<J, O, F, Fut>(app: App, what: &'static str, jobs: Vec<(J, Reply<O>)>, run: &F)
where
    F: Fn(App, Tx, Vec<J>) -> Fut,
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
                // A database out of reach stays retryable for every job of the batch.
                let failed = match &error {
                    UsecaseError::Unavailable(cause) => UsecaseError::Unavailable(cause.clone()),
                    other => UsecaseError::IssuanceFailed(other.to_string()),
                };
                let _ = reply.send(Err(failed));
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
