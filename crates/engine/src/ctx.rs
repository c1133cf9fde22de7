//! [`RunCtx`]: one run as the parts above a single attempt see it (a task's attempts, a gate's
//! rounds, a checkpoint, the final verification): the [`AttemptEnv`], the run's record and
//! journal, the one landing path onto the run branch, the line to the scheduler for tasks that
//! wait for a person, and the pool of worktrees.

use crate::env::AttemptEnv;
use crate::integrate::Landing;
use crate::journal::{Journal, RunRecord};
use crate::slots::Slots;
use crate::worktree::Pool;
use std::sync::Arc;

/// What the parts of one run share above a single attempt.
pub(crate) struct RunCtx {
    pub(crate) env: AttemptEnv,
    pub(crate) run: RunRecord,
    /// Where `wavecrew approve`, `reject` and `decide` write their answers.
    pub(crate) journal: Arc<Journal>,
    pub(crate) landing: Landing,
    pub(crate) slots: Slots,
    pub(crate) pool: Pool,
}
