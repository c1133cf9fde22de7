//! `wavecrew fmt PLAN... [--check]`: normalize plans in place.

use super::Context;
use crate::error::{CliError, exit};
use crate::input::PlanFile;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Plan files to format.
    #[arg(required = true, value_name = "PLAN")]
    pub plans: Vec<PathBuf>,

    /// Change nothing: print what would change and exit 1 if anything would.
    #[arg(long)]
    pub check: bool,
}

pub fn run(_ctx: &Context, args: &FmtArgs) -> Result<ExitCode, CliError> {
    let mut code = exit::OK;
    let mut out = std::io::stdout().lock();
    for path in &args.plans {
        let file = match PlanFile::read(path) {
            Ok(file) => file,
            Err(error) => {
                eprintln!("{error}");
                code = exit::IO;
                continue;
            }
        };
        let decoded = match plan::decode(&file.bytes) {
            Ok(decoded) => decoded,
            Err(diagnostic) => {
                eprintln!("error: `{}`: {}; not formatted", file.display(), diagnostic.message);
                code = exit::IO;
                continue;
            }
        };
        let formatted = plan::format(decoded.text);
        if formatted == decoded.text {
            continue;
        }
        if args.check {
            let diff = similar::TextDiff::from_lines(decoded.text, &formatted);
            let shown = file.display();
            write!(out, "{}", diff.unified_diff().context_radius(2).header(&shown, &format!("{shown} (formatted)")))?;
            code = code.max(exit::FINDINGS);
        } else {
            let mut bytes = Vec::with_capacity(formatted.len() + 3);
            if decoded.bom {
                bytes.extend_from_slice(b"\xEF\xBB\xBF");
            }
            bytes.extend_from_slice(formatted.as_bytes());
            replace_file(path, &bytes)?;
            eprintln!("formatted {}", file.display());
        }
    }
    Ok(ExitCode::from(code))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so an
/// interrupted `fmt` leaves either the old plan or the new one, never half of one.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let shown = path.display();
    let fail = |error: std::io::Error| CliError::io(format!("error: could not write `{shown}`: {error}"));
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path).map_err(fail)?.permissions();
    let mut temp = tempfile::Builder::new().prefix(".wavecrew-fmt").tempfile_in(dir).map_err(fail)?;
    temp.write_all(bytes).map_err(fail)?;
    temp.as_file().set_permissions(permissions).map_err(fail)?;
    temp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
