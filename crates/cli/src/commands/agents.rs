//! `wavecrew agents`: each agent wavecrew can run, with its program's path and version, or
//! what is missing and how to install it.

use super::Context;
use crate::config::Config;
use crate::error::CliError;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct AgentsArgs {
    /// The repository whose `wavecrew.toml` to read.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

/// How to install an agent CLI.
fn install_hint(cli: &str) -> &'static str {
    engine::adapters::Cli::from_name(cli).map_or("", engine::adapters::Cli::install_hint)
}

/// The program's path: as configured, or found on PATH (as `resume` looks for a run's agent).
fn locate(program: &Path) -> Option<PathBuf> {
    engine::settings::find_program(program)
}

/// The first line `program --version` prints, within 15 seconds.
fn version(program: &Path) -> String {
    let child = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return "(does not start)".into() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            let mut out = String::new();
            let _ = std::io::Read::read_to_string(child.stdout.as_mut().expect("piped"), &mut out);
            return out.lines().next().unwrap_or("").trim().to_owned();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    "(no answer to --version)".into()
}

pub fn run(_ctx: &Context, args: &AgentsArgs) -> Result<ExitCode, CliError> {
    let config = super::run::load_config(&args.repo).map(|(_, c)| c).unwrap_or_else(|_| Config::default());
    let mut agents: Vec<(String, String, PathBuf)> = Vec::new();
    for cli in engine::adapters::Cli::ALL.map(engine::adapters::Cli::name) {
        let configured = config.agents.get(cli);
        let program = configured.and_then(|a| a.program.clone()).unwrap_or_else(|| PathBuf::from(cli));
        agents.push((cli.to_owned(), cli.to_owned(), program));
    }
    let mut rows: Vec<Row> = Vec::new();
    for (name, agent) in &config.agents {
        if agents.iter().any(|(n, _, _)| n == name) {
            continue;
        }
        match (&agent.cli, agent.command.first()) {
            (Some(cli), _) => {
                agents.push((name.clone(), cli.clone(), agent.program.clone().unwrap_or_else(|| PathBuf::from(cli))))
            }
            (None, Some(program)) => agents.push((name.clone(), "command".into(), PathBuf::from(program))),
            (None, None) => rows.push(Row::new(name, "", "(no `command` and no `cli`: not runnable)".into())),
        }
    }
    for (name, kind, program) in agents {
        let default = if config.agent.as_deref() == Some(name.as_str()) { "  (default)" } else { "" };
        let detail = match locate(&program) {
            Some(path) => format!("{}  {}{default}", path.display(), version(&path)),
            None => {
                let hint = install_hint(&kind);
                let hint = if hint.is_empty() { String::new() } else { format!("; install: {hint}") };
                format!("not found: `{}`{hint}{default}", program.display())
            }
        };
        rows.push(Row::new(&name, &kind, detail));
    }
    rows.push(Row::new("scripted", "double", "built in (a test double: plays a script, calls no model)".into()));
    let mode = config.sandbox.mode.unwrap_or_default();
    let sandbox = match engine::sandbox::State::of(mode, engine::sandbox::support()) {
        Ok(state) => format!("{} ([sandbox] mode = \"{}\")", state.describe(), mode.as_str()),
        Err(error) => error.to_string().lines().next().unwrap_or_default().to_owned(),
    };
    let support = match engine::sandbox::support() {
        engine::sandbox::Support::Available { abi } => format!("Landlock ABI {abi}"),
        engine::sandbox::Support::Unavailable(reason) => reason,
    };
    let network = match &config.sandbox.connect {
        Some(ports) if mode != engine::sandbox::Mode::Off => {
            let ports: Vec<String> = ports.iter().map(i64::to_string).collect();
            format!(
                "; TCP connects only to ports {}",
                if ports.is_empty() { "(none)".into() } else { ports.join(", ") }
            )
        }
        _ => String::new(),
    };
    let sandbox = format!("{sandbox}{network}");
    let backends = [
        Row::new("slurm", "backend", slurm_status(&config)),
        Row::new("sandbox", "landlock", format!("{sandbox}; this kernel: {support}")),
    ];
    let mut out = std::io::stdout().lock();
    write!(out, "{}\n{}", table(&rows, &backends), table(&backends, &rows))?;
    Ok(ExitCode::SUCCESS)
}

/// One line of `wavecrew agents`: a name, its kind, and what was found.
struct Row {
    name: String,
    kind: String,
    detail: String,
}

impl Row {
    fn new(name: &str, kind: &str, detail: String) -> Row {
        Row { name: name.to_owned(), kind: kind.to_owned(), detail }
    }
}

/// `rows` in columns two spaces apart, as wide as the widest cell of `rows` and `also` (so that
/// tables printed one after the other line up), with no trailing white space.
fn table(rows: &[Row], also: &[Row]) -> String {
    let width = |cell: fn(&Row) -> &str| rows.iter().chain(also).map(|r| cell(r).chars().count()).max().unwrap_or(0);
    let (name, kind) = (width(|r| &r.name), width(|r| &r.kind));
    rows.iter()
        .map(|r| format!("{:<name$}  {:<kind$}  {}", r.name, r.kind, r.detail).trim_end().to_owned() + "\n")
        .collect()
}

/// Whether `--backend slurm` can work here: the client tools, and whether the controller answers.
fn slurm_status(config: &Config) -> String {
    let Some(sbatch) = locate(Path::new("sbatch")) else {
        return "not available: no `sbatch` on PATH (Debian: apt install slurm-client)".into();
    };
    let client = config.slurm.client();
    let ping = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| engine::slurm::SlurmError(e.to_string()))
        .and_then(|runtime| runtime.block_on(client.ping()));
    match ping {
        Ok(answer) => format!("{}  {}: {answer}", sbatch.display(), version(&sbatch)),
        Err(error) => format!("{}: the cluster does not answer: {error}", sbatch.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_lines_end_in_no_space() {
        let rows = [
            Row::new("opencode", "opencode", "not found: `opencode`".into()),
            Row::new("a-long-agent-name", "command", "/usr/bin/tool  1.0".into()),
            Row::new("broken", "", "(not runnable)".into()),
        ];
        let backends = [Row::new("slurm", "backend", "not available".into())];
        assert_eq!(
            table(&rows, &backends),
            "opencode           opencode  not found: `opencode`\n\
             a-long-agent-name  command   /usr/bin/tool  1.0\n\
             broken                       (not runnable)\n"
        );
        assert_eq!(table(&backends, &rows), "slurm              backend   not available\n");
    }
}
