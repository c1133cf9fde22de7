//! `llm-double --script FILE [--port N]`: the scripted LLM server (a test double) on 127.0.0.1.
//! Prints its URL, then serves until killed.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let script_path = match args.iter().position(|a| a == "--script").and_then(|i| args.get(i + 1)) {
        Some(path) => path.clone(),
        None => {
            eprintln!("usage: llm-double --script FILE\n(a test double: it answers model API calls from a script)");
            return ExitCode::from(2);
        }
    };
    let script: llm_double::Script = match std::fs::read_to_string(&script_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(script) => script,
        Err(error) => {
            eprintln!("error: script `{script_path}`: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        match llm_double::Server::start(script).await {
            Ok(server) => {
                println!("{}", server.url());
                std::future::pending::<()>().await;
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: could not listen on 127.0.0.1: {error}");
                ExitCode::from(1)
            }
        }
    })
}
