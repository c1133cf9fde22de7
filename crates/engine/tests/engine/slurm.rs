//! The Slurm client against a real single-node Slurm cluster, started for this test by
//! `scripts/slurm-cluster.sh` in a temporary folder (`scripts/test.sh` installs Debian's Slurm).

use engine::slurm::{JobId, Slurm, Submission};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use testkit::process::Cluster;

async fn wait_final(slurm: &Slurm, id: JobId) -> engine::slurm::JobInfo {
    let started = Instant::now();
    loop {
        let jobs = slurm.jobs().await.unwrap();
        if let Some(job) = jobs.get(&id).filter(|j| j.is_final()) {
            return job.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "job {id} did not end: {:?}", jobs.get(&id));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn jobs_are_submitted_followed_and_cancelled_on_a_real_cluster() {
    let cluster = Cluster::start();
    let slurm = Slurm { conf: Some(cluster.conf()), cpus: Some(1), ..Slurm::default() };
    assert!(slurm.ping().await.unwrap().contains("UP"));

    let work = cluster.dir.path().join("work");
    let job = |name: &str, script: &str| Submission {
        name: name.into(),
        workdir: work.join(name),
        output: work.join(name).join("out/job.log"),
        time_limit: Duration::from_secs(90),
        argv: vec!["sh".into(), "-c".into(), script.into()],
        env: vec![("PATH".into(), "/usr/bin:/bin".into()), ("GREETING".into(), "a,b".into())],
    };
    // The job sees exactly the environment given (commas included), none of this process's.
    let id = slurm.submit(&job("env", "echo \"$GREETING\" > seen; env > env.txt; exit 3")).await.unwrap();
    let done = wait_final(&slurm, id).await;
    assert_eq!((done.state.as_str(), done.exit_code), ("FAILED", Some(3)), "{done:?}");
    assert_eq!(std::fs::read_to_string(work.join("env/seen")).unwrap(), "a,b\n");
    let env = std::fs::read_to_string(work.join("env/env.txt")).unwrap();
    assert!(!env.contains("CARGO"), "the test's environment leaked into the job:\n{env}");

    let id = slurm.submit(&job("sleeper", "sleep 60")).await.unwrap();
    let started = Instant::now();
    while slurm.jobs().await.unwrap().get(&id).is_none_or(|j| j.state != "RUNNING") {
        assert!(started.elapsed() < Duration::from_secs(30), "the job never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    slurm.cancel(&[id]).await.unwrap();
    let done = wait_final(&slurm, id).await;
    assert_eq!(done.state, "CANCELLED", "{done:?}");
    assert!(done.describe().starts_with("CANCELLED"), "{}", done.describe());
}

#[tokio::test]
async fn a_missing_configuration_fails_at_once_with_the_way_out() {
    let slurm = Slurm { conf: Some(PathBuf::from("/nonexistent/slurm.conf")), ..Slurm::default() };
    let started = Instant::now();
    let error = slurm.ping().await.unwrap_err();
    assert!(error.0.contains("no Slurm configuration at /nonexistent/slurm.conf"), "{error}");
    // Not the minute Slurm's commands spend retrying a missing file.
    assert!(started.elapsed() < Duration::from_secs(30));
}
