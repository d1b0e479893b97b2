//! Port validation: `bqh validate` / `make validate`. (Being written: see issue "Validating ports".)

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("validate is not implemented yet")
}
