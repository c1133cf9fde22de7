//! What the CLI's tests share beyond `testkit`: the binary under test. Everything of
//! `testkit` is re-exported, so `use crate::common::*` brings the repository builder, git,
//! events and fixtures.

pub use testkit::fixtures::*;
pub use testkit::process::Cluster;
pub use testkit::*;

use serde_json::Value;
use std::path::Path;

/// The `wavecrew` binary under test (cargo sets this variable when it compiles the
/// package's integration tests; a library like testkit cannot read it).
pub fn wavecrew_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wavecrew"))
}

/// [`wavecrew_bin`], for testkit.
pub fn wavecrew() -> Wavecrew {
    Wavecrew::new(wavecrew_bin())
}

/// A repository with one commit, `plan.md` and `script.json` for the scripted agent, in which
/// the binary under test runs (see [`Repo::scripted`]).
pub fn scripted_repo(plan: &str, script: &Value) -> Repo {
    Repo::scripted(wavecrew(), plan, script)
}

/// A request an [`HttpStandIn`] received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The path with its query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// An HTTP/1.1 server on 127.0.0.1 standing in for a webhook receiver or a forge's API: it
/// records every request and answers what `answer` says, a status and a JSON body, one
/// request per connection; `None` never answers (the connection is held open, silent).
pub struct HttpStandIn {
    pub addr: std::net::SocketAddr,
    requests: std::sync::Arc<std::sync::Mutex<Vec<Request>>>,
}

impl HttpStandIn {
    pub fn start(mut answer: impl FnMut(&Request) -> Option<(u16, String)> + Send + 'static) -> HttpStandIn {
        use std::io::Write as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = requests.clone();
        std::thread::spawn(move || {
            let mut silent = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&stream) else { continue };
                record.lock().unwrap().push(request.clone());
                match answer(&request) {
                    Some((status, body)) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    None => silent.push(stream),
                }
            }
        });
        HttpStandIn { addr, requests }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests received, once there are at least `n` (at most 30 s).
    pub fn wait_for(&self, n: usize) -> Vec<Request> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(std::time::Instant::now() < deadline, "{} of {n} requests came: {got:?}", got.len());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// A request's method, path, headers and body (by its `Content-Length`).
fn read_request(stream: &std::net::TcpStream) -> Option<Request> {
    use std::io::{BufRead as _, Read as _};
    let mut reader = std::io::BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, path) = (words.next()?.to_owned(), words.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() })
}
