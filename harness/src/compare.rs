//! The comparison run (`make compare`). (Being written.)
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("compare is not implemented yet")
}
