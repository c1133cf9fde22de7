//! `wavecrew serve`: the dashboard of a repository's runs, until Ctrl-C.

use super::Context;
use crate::config::Config;
use crate::error::CliError;
use clap::Args;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the dashboard listens; shared by `serve` and `run --serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeAddr {
    /// The address to listen on. Any address other than loopback asks for the access token on
    /// every request, not only on actions.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// The port (0: any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The repository whose runs to show.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,

    #[command(flatten)]
    pub addr: ServeAddr,
}

/// Starts the dashboard for the repository whose state folder is `state_dir` and says where it
/// is; `preview`: how it runs checkpoints' changes ([`preview`]).
pub async fn start(
    state_dir: PathBuf,
    addr: &ServeAddr,
    preview: Option<server::PreviewConfig>,
) -> Result<server::Dashboard, CliError> {
    let previews = preview.as_ref().map(|p| p.settings.command.clone());
    let options = server::Options {
        bind: addr.bind,
        port: addr.port,
        state_dir,
        token: None,
        limits: server::Limits::default(),
        preview,
    };
    let dashboard =
        server::Dashboard::start(options).await.map_err(|e| CliError::io(format!("error: dashboard: {e}")))?;
    eprintln!("dashboard: {}", dashboard.url());
    if let Some(command) = previews {
        eprintln!("previews: `{command}`, from a waiting checkpoint's card");
    }
    Ok(dashboard)
}

/// `[preview]` of the repository at `root` as the dashboard takes it, when it has a command.
pub async fn preview(root: &Path, config: &Config) -> Result<Option<server::PreviewConfig>, CliError> {
    let Some(settings) = config.preview.settings(&config.worktree) else { return Ok(None) };
    let worktrees = engine::workspace::Workspace::worktree_root_of(root)
        .await
        .map_err(|e| CliError::usage(format!("error: {e}")))?;
    Ok(Some(server::PreviewConfig { settings, root: root.to_owned(), worktrees }))
}

pub fn run(_ctx: &Context, args: &ServeArgs) -> Result<ExitCode, CliError> {
    let state_dir = engine::control::state_dir(&args.repo).map_err(|e| CliError::usage(format!("error: {e}")))?;
    let (root, config) = super::run::load_config(&args.repo)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io(format!("error: could not start the runtime: {e}")))?;
    runtime.block_on(async move {
        let preview = preview(&root, &config).await?;
        let dashboard = start(state_dir, &args.addr, preview).await?;
        eprintln!("press Ctrl-C to stop");
        super::run::interrupted().await;
        dashboard.stop().await.map_err(|e| CliError::io(format!("error: dashboard: {e}")))?;
        Ok(ExitCode::SUCCESS)
    })
}
