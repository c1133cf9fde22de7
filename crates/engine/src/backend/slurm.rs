//! The `slurm` backend: each attempt is a Slurm job that runs `wavecrew worker` on a node; the
//! head follows it, passes on its events and logs, and brings its result back as a bundle.

use super::{AttemptJob, Backend, Boxed, SlurmOptions};
use crate::attempt::Work;
use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::events::Event;
use crate::remote::{AttemptDir, EventReader, Job, JobResult};
use crate::slurm::{JobId, JobInfo, Submission};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Attempts as Slurm jobs.
pub(super) struct SlurmBackend {
    options: SlurmOptions,
    /// The last `squeue`, shared by every attempt that waits: one query per poll for the run.
    jobs: tokio::sync::Mutex<Option<(Instant, JobsRead)>>,
}

/// Appends to `to` what `from` has beyond `to`'s length: logs only grow, and whoever follows
/// the copy (the dashboard) reads it as it grows.
fn append_new(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let have = std::fs::metadata(to).map_or(0, |m| m.len());
    let mut source = std::fs::File::open(from)?;
    if source.metadata()?.len() <= have {
        return Ok(());
    }
    source.seek(SeekFrom::Start(have))?;
    let mut rest = Vec::new();
    source.read_to_end(&mut rest)?;
    std::fs::OpenOptions::new().create(true).append(true).open(to)?.write_all(&rest)
}

/// How long Slurm may fail to say anything about a job before its attempt fails.
const SLURM_SILENCE: Duration = Duration::from_secs(600);

/// What one `squeue` said: every job by id, or why it could not say.
type JobsRead = Result<HashMap<JobId, JobInfo>, String>;

/// How long a job may be over, for Slurm, before its worker's result must be there (a shared
/// filesystem may show files late).
const RESULT_GRACE: Duration = Duration::from_secs(10);

impl Backend for SlurmBackend {
    fn work<'a>(&'a self, env: &'a AttemptEnv, job: AttemptJob<'a>) -> Boxed<'a, Work> {
        Box::pin(async move { self.submit_and_follow(env, &job).await })
    }

    fn reattach<'a>(
        &'a self,
        env: &'a AttemptEnv,
        task: &'a plan::Task,
        attempt: u32,
        job: &'a str,
    ) -> Boxed<'a, (Work, String)> {
        Box::pin(async move {
            let dir = AttemptDir::new(&self.options.spool, &env.run_id, &task.id.to_string(), attempt);
            let base = match dir.read_job() {
                Ok(spec) => spec.base,
                Err(reason) => return Ok((Work::Failed(reason), String::new())),
            };
            let Ok(id) = job.parse::<JobId>() else {
                return Ok((Work::Failed(format!("`{job}` is not a Slurm job id")), base));
            };
            let work = self.follow(env, &dir, &task.id.to_string(), id).await?;
            Ok((work, base))
        })
    }
}

impl SlurmBackend {
    pub(super) fn new(options: SlurmOptions) -> SlurmBackend {
        SlurmBackend { options, jobs: Default::default() }
    }

    /// Every job Slurm holds, read at most once per poll interval for the whole run.
    async fn jobs(&self) -> JobsRead {
        let mut cached = self.jobs.lock().await;
        if let Some((at, jobs)) = cached.as_ref()
            && at.elapsed() < self.options.poll
        {
            return jobs.clone();
        }
        let jobs = self.options.client.jobs().await.map_err(|e| e.to_string());
        *cached = Some((Instant::now(), jobs.clone()));
        jobs
    }

    async fn submit_and_follow(&self, env: &AttemptEnv, attempt: &AttemptJob<'_>) -> Result<Work, EngineError> {
        let task = attempt.task.id.to_string();
        let dir = AttemptDir::new(&self.options.spool, &env.run_id, &task, attempt.attempt);
        let job = Job {
            run: env.run_id.clone(),
            task: task.clone(),
            attempt: attempt.attempt,
            repo: self.options.repo.clone(),
            base: attempt.base.to_owned(),
            run_base: env.run_base.clone(),
            plan_text: env.plan_text.clone(),
            milestone: env.plan.milestone.clone(),
            failure: attempt.failure.map(str::to_owned),
            decisions: env.decisions.list(),
            agent: self.options.agent.clone(),
            agent_timeout_secs: env.options.agent_timeout.as_secs(),
            verify_timeout_secs: env.options.verify_timeout.as_secs(),
            escalate: env.options.escalate.clone(),
            budgets: env.options.budgets.clone(),
        };
        dir.write_job(&job)?;
        if !Path::new(&self.options.repo).is_dir() {
            // Workers clone from a remote: the base commit must be there.
            let target = format!("{}:{}", attempt.base, crate::remote::base_ref(&env.run_id, &task, attempt.attempt));
            if let Err(error) = env.repo.run(&["push", "--quiet", "--force", &self.options.repo, &target]).await {
                return Ok(Work::Failed(format!(
                    "could not push the base commit to {} for the Slurm job: {error}",
                    self.options.repo
                )));
            }
        }
        let worktree = format!("slurm: {}", dir.0.display());
        env.attempt_started(&task, attempt.attempt, attempt.lane, worktree, attempt.base, None)?;
        // Enough for the agent, every Verify command and a setup, with a margin; Slurm counts minutes.
        let verify = env.options.verify_timeout * attempt.task.verify_commands.len() as u32;
        let limit = env.options.agent_timeout + verify + env.options.setup_timeout.min(Duration::from_secs(600));
        let mut argv = self.options.worker.clone();
        argv.push(dir.job().to_string_lossy().into_owned());
        let submission = Submission {
            name: format!("wavecrew-{}-{task}", env.run_id),
            workdir: dir.0.clone(),
            output: dir.log(),
            time_limit: limit + Duration::from_secs(300),
            argv,
            env: self.options.env.clone(),
        };
        let id = match self.options.client.submit(&submission).await {
            Ok(id) => id,
            Err(error) => return Ok(Work::Failed(format!("Slurm did not take the job: {error}"))),
        };
        env.emitter.emit(Event::JobSubmitted {
            task: task.clone(),
            attempt: attempt.attempt,
            backend: "slurm".into(),
            job: id.to_string(),
        })?;
        self.follow(env, &dir, &task, id).await
    }

    /// Passes the worker's events on, and waits for its result (or for Slurm to say the job
    /// ended without one); cancels the job when the run is cancelled.
    async fn follow(&self, env: &AttemptEnv, dir: &AttemptDir, task: &str, id: JobId) -> Result<Work, EngineError> {
        let mut events = EventReader::default();
        let mut cancel = env.cancel.clone();
        let mut over_since: Option<Instant> = None;
        let mut silent_since: Option<Instant> = None;
        loop {
            self.pass_on(env, dir, &mut events)?;
            if let Some(result) = dir.read_result() {
                self.pass_on(env, dir, &mut events)?;
                return Ok(match result {
                    Ok(JobResult::Passed { commit }) => {
                        match crate::remote::import_result(&env.repo, &dir.bundle(), &commit).await {
                            Ok(tree) => Work::Tree(tree),
                            Err(error) => Work::Failed(format!("the worker's result could not be brought in: {error}")),
                        }
                    }
                    Ok(JobResult::Cancelled) if *cancel.borrow() => return Err(EngineError::Cancelled),
                    // The worker's word, unless Slurm stopped the job under it (scancel from
                    // outside, the time limit, a node lost): then Slurm's reason comes first.
                    Ok(JobResult::Failed { reason }) => Work::Failed(self.why(id, Some(reason)).await),
                    Ok(JobResult::VerifyTimedOut { reason }) => Work::VerifyTimedOut(reason),
                    Ok(JobResult::Cancelled) => Work::Failed(self.why(id, None).await),
                    Err(reason) => Work::Failed(reason),
                });
            }
            if *cancel.borrow() {
                let _ = self.options.client.cancel(&[id]).await;
                return Err(EngineError::Cancelled);
            }
            // A transient error of squeue changes nothing: the next poll asks again. A controller
            // that stays silent fails the attempt after a while rather than hold the run for ever.
            let read = self.jobs().await;
            if let Err(error) = &read {
                let since = *silent_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= SLURM_SILENCE {
                    return Ok(Work::Failed(format!(
                        "Slurm has not answered for {} minutes about job {id}: {error}",
                        SLURM_SILENCE.as_secs() / 60
                    )));
                }
            }
            if let Ok(jobs) = read {
                silent_since = None;
                match jobs.get(&id) {
                    Some(job) if !job.is_final() => over_since = None,
                    found => {
                        let since = *over_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= RESULT_GRACE {
                            let state = found.map_or_else(|| "no longer listed by Slurm".to_owned(), JobInfo::describe);
                            let log = std::fs::read_to_string(dir.log()).unwrap_or_default();
                            let tail: Vec<&str> = log.lines().rev().take(15).collect();
                            let tail: Vec<&str> = tail.into_iter().rev().collect();
                            return Ok(Work::Failed(format!(
                                "Slurm job {id} of task {task} ended {state} without a result from its worker\n{}",
                                tail.join("\n")
                            )));
                        }
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(self.options.poll.min(Duration::from_secs(1))) => {}
                _ = cancel.changed() => {}
            }
        }
    }

    /// Why an attempt whose worker reported no success ended: Slurm's state of the job once it
    /// is over (waiting a little for it), when Slurm ended it, then the worker's reason.
    async fn why(&self, id: JobId, worker: Option<String>) -> String {
        let deadline = Instant::now() + RESULT_GRACE;
        let job = loop {
            let job = self.jobs().await.ok().and_then(|jobs| jobs.get(&id).cloned());
            if job.as_ref().is_none_or(JobInfo::is_final) || Instant::now() >= deadline {
                break job;
            }
            tokio::time::sleep(self.options.poll.min(Duration::from_millis(500))).await;
        };
        let stopped = job.filter(|j| j.is_final() && j.state != "COMPLETED" && j.state != "FAILED");
        match (stopped, worker) {
            (Some(job), Some(reason)) => {
                format!("Slurm stopped job {id} ({}) before the attempt ended\n{reason}", job.describe())
            }
            (Some(job), None) => format!("Slurm stopped job {id} ({}) before the attempt ended", job.describe()),
            (None, Some(reason)) => reason,
            (None, None) => format!("the worker of Slurm job {id} was stopped before the attempt ended"),
        }
    }

    /// Journals the events the worker wrote since the last look (its process ids mean nothing
    /// here and are left out), and brings what its logs gained into the run's folder.
    fn pass_on(&self, env: &AttemptEnv, dir: &AttemptDir, events: &mut EventReader) -> Result<(), EngineError> {
        for event in events.read_new(&dir.events()) {
            if matches!(event, Event::AgentSpawned { .. } | Event::AgentOutput { .. } | Event::AttemptStarted { .. }) {
                continue;
            }
            count_usage(env, &event);
            env.emitter.emit(event)?;
        }
        for folder in ["logs", "prompts"] {
            let Ok(entries) = std::fs::read_dir(dir.0.join(folder)) else { continue };
            let target = env.layout.dir().join(folder);
            let _ = std::fs::create_dir_all(&target);
            for entry in entries.filter_map(Result::ok) {
                let _ = append_new(&entry.path(), &target.join(entry.file_name()));
            }
        }
        Ok(())
    }
}

/// What a worker's agent spent (priced on the worker) counts here too: for `--budget`, and for
/// the budgets per task and per wave, whose ledger only the head keeps.
fn count_usage(env: &AttemptEnv, event: &Event) {
    use crate::events::ActivityKind;
    match event {
        Event::AgentActivity { task, attempt, kind: ActivityKind::Usage, tokens_in, tokens_out, cost_usd, .. } => {
            let cost = crate::budget::Cost {
                usd: cost_usd.unwrap_or(0.0),
                tokens: tokens_in.unwrap_or(0) + tokens_out.unwrap_or(0),
            };
            env.spent.add(cost.usd);
            env.spent.ledger().add(task, *attempt, env.attempt_model(task, *attempt).as_deref(), cost);
        }
        Event::AgentExited { task, attempt, .. } => {
            env.spent.ledger().finish(task, *attempt, env.attempt_model(task, *attempt).as_deref());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_log_s_copy_only_ever_grows_by_what_the_log_gained() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from.log"), dir.path().join("to.log"));
        std::fs::write(&from, "one\n").unwrap();
        super::append_new(&from, &to).unwrap();
        std::fs::write(&from, "one\ntwo\n").unwrap();
        super::append_new(&from, &to).unwrap();
        super::append_new(&from, &to).unwrap();
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "one\ntwo\n");
    }
}
