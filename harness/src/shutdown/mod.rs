//! The shutdown study (`bqh shutdown`): the engine's probes through the harness interface, and
//! with `--native` (or `--out`) through each queue's own API; prints both matrices and, with
//! `--out`, writes a results folder. Exit 1 when a probe failed.

pub mod report;
pub mod rows;

use std::process::ExitCode;

use bq_engine::shutdown::{self, own_api, NativeObservation, Verdict};
use bq_engine::Builtin;
use bq_results::Claim;

use crate::study;

crate::study::declare!(
    /// `bqh shutdown`, one of [`crate::STUDIES`].
    Shutdown,
    "shutdown",
    "Probe the shutdown semantics of each implementation and print the matrix"
);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Implementations to probe [default: every built-in]
    #[arg(long = "impl", value_enum, value_delimiter = ',')]
    pub impls: Vec<Builtin>,
    /// Also probe each implementation's own API, without the harness adapter
    #[arg(long)]
    pub native: bool,
    /// Write a results folder (env.json, shutdown.csv, shutdown-native.csv, summary.md) here;
    /// implies --native
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

/// `bqh shutdown`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    // Refused now, not after the probes.
    let out = args.out.as_deref().map(Claim::dir).transpose()?;
    let impls = if args.impls.is_empty() { Builtin::ALL.to_vec() } else { args.impls.clone() };
    let matrix = shutdown::probe_matrix(&impls);
    let native: Vec<NativeObservation> = if args.native || out.is_some() {
        impls.iter().flat_map(|&b| own_api::probe_all(b)).collect()
    } else {
        Vec::new()
    };
    print!("{}", report::matrix_markdown(&matrix));
    if !native.is_empty() {
        print!("\n{}", report::native_matrix_markdown(&native));
    }
    let probe_failures = matrix.iter().flatten().filter(|o| o.verdict == Verdict::Failed).count()
        + native.iter().filter(|o| o.verdict == Verdict::Failed).count();
    if let Some(out) = out {
        let parameters = serde_json::json!({ "impls": args.impls, "native": true, "out": args.out });
        let results = report::Results { env: study::env::<Shutdown>(parameters), matrix, native };
        out.write_dir(|dir| report::write(dir, &results))?;
        return Ok(study::finish(
            out.path(),
            "summary.md, shutdown.csv, shutdown-native.csv, env.json",
            0,
            probe_failures,
        ));
    }
    Ok(if probe_failures > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
