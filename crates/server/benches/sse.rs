//! How long a journal event takes to reach live dashboard pages: 200 clients on one run,
//! against a baseline of 1 client measured the same way, side by side.
//!
//! `cargo bench -p wavecrew-server --bench sse` prints, for each, the p50 / p99 / max delay
//! from the moment an event is recorded in the journal (as the engine records it) to the moment
//! a client has read a room that includes it (a `room` message whose id is the event's sequence
//! number or later) off its socket, and the ratio of the two runs.
//! The delay includes the server's journal poll (50 ms) and the spacing of a run's rebuilds
//! ([`server::REBUILD_GAP`]: events closer than that share a room), whatever the number of
//! clients; the ratio shows what fanning out to 200 costs.

use engine::events::{Event, RunState};
use engine::journal::{Journal, RunRecord, now_ms};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Events recorded per measurement.
const EVENTS: u64 = 100;
/// Time between two events.
const GAP: Duration = Duration::from_millis(20);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let baseline = runtime.block_on(measure(1));
    let loaded = runtime.block_on(measure(200));
    println!("sse delay, event recorded -> read by the client ({EVENTS} events, {} ms apart)", GAP.as_millis());
    println!("{:>8} {:>9} {:>9} {:>9}", "clients", "p50 ms", "p99 ms", "max ms");
    for (clients, d) in [(1, &baseline), (200, &loaded)] {
        println!("{clients:>8} {:>9.1} {:>9.1} {:>9.1}", d.p50, d.p99, d.max);
    }
    println!(
        "ratio 200 clients / 1 client: p50 {:.2}x, p99 {:.2}x",
        loaded.p50 / baseline.p50.max(0.001),
        loaded.p99 / baseline.p99.max(0.001)
    );
}

struct Delays {
    p50: f64,
    p99: f64,
    max: f64,
}

async fn measure(clients: usize) -> Delays {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("wavecrew");
    let journal = Journal::open(&state.join("journal.sqlite")).unwrap();
    let run = RunRecord {
        id: "bench".into(),
        plan_path: "plan.md".into(),
        plan_hash: "0".into(),
        plan_text: "# M1 Implementation Plan: Bench\n".into(),
        milestone: "M1".into(),
        title: "Bench".into(),
        branch: "wavecrew/M1".into(),
        base: "abc".into(),
        state: RunState::Running,
        started_ms: now_ms(),
        finished_ms: None,
        pid: std::process::id(),
        options: "{}".into(),
    };
    journal.create_run(&run, &["1.1".to_owned()]).unwrap();
    let limits = server::Limits { streams: clients + 8, ..server::Limits::default() };
    let options = server::Options {
        bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        state_dir: state.clone(),
        token: None,
        limits,
        preview: None,
    };
    let dashboard = server::Dashboard::start(options).await.unwrap();
    let addr = dashboard.addr();

    // When each event was recorded, and when each client read it.
    let recorded: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let mut readers = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(clients);
    for _ in 0..clients {
        readers.push(tokio::spawn(read_events(addr, ready_tx.clone())));
    }
    // A first event that every client must have read before the measured ones: all are live.
    journal.record("bench", Event::AgentSpawned { task: "1.1".into(), attempt: 1, pid: 1 }).unwrap();
    for _ in 0..clients {
        ready_rx.recv().await.unwrap();
    }
    for _ in 0..EVENTS {
        let at = Instant::now();
        let event = Event::AgentSpawned { task: "1.1".into(), attempt: 1, pid: 1 };
        let envelope = journal.record("bench", event).unwrap();
        recorded.lock().unwrap().insert(envelope.seq, at);
        tokio::time::sleep(GAP).await;
    }
    let mut delays = Vec::new();
    for reader in readers {
        let arrivals = reader.await.unwrap();
        let recorded = recorded.lock().unwrap();
        for (seq, at) in recorded.iter() {
            // The first room that includes the event.
            let (_, arrived) = arrivals.iter().find(|(id, _)| id >= seq).expect("every client saw every event");
            delays.push(arrived.duration_since(*at).as_secs_f64() * 1000.0);
        }
    }
    assert_eq!(delays.len(), clients * EVENTS as usize, "every client got every event");
    dashboard.stop().await.unwrap();
    delays.sort_by(f64::total_cmp);
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize];
    Delays { p50: at(0.5), p99: at(0.99), max: *delays.last().unwrap() }
}

/// Reads the run's rooms until the one with the last event; returns when each arrived. Says
/// when it has read the first (with the unmeasured event).
async fn read_events(addr: SocketAddr, ready: tokio::sync::mpsc::Sender<()>) -> Vec<(u64, Instant)> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /api/runs/bench/events HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut arrivals = Vec::new();
    let mut line = String::new();
    // The first event is 1, the measured ones 2 to EVENTS + 1.
    while arrivals.last().is_none_or(|(seq, _)| *seq <= EVENTS) {
        line.clear();
        if reader.read_line(&mut line).await.unwrap() == 0 {
            break;
        }
        if let Some(id) = line.strip_prefix("id:") {
            match id.trim().parse().unwrap() {
                1 => ready.send(()).await.unwrap(),
                seq => arrivals.push((seq, Instant::now())),
            }
        }
    }
    arrivals
}
