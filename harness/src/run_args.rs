//! The flags every measuring study shares.

use serde::Serialize;

use bq_engine::Builtin;

/// The built-ins, for a help text: every name, from the engine's one table.
pub fn builtins_help() -> String {
    format!("Built-in implementations (--impl): {}.", Builtin::names())
}

/// Which modes `--mode` selects: driven, or every native runner there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeChoice {
    Driven,
    Native,
}
