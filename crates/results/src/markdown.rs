//! The parts every `summary.md` shares.

use std::fmt::Write;

use crate::env::Env;

/// The machine and the command, under the title.
pub fn header(out: &mut String, title: &str, env: &Env) {
    writeln!(out, "# {title}\n").unwrap();
    writeln!(
        out,
        "{} · {} ({} cores) · Linux {} · {} · OCaml {} · {} · commit {}\n",
        env.date_utc, env.cpu_model, env.cores, env.kernel, env.rustc, env.ocamlopt, env.cc, env.git_commit
    )
    .unwrap();
}

/// Links to the plots, with their captions.
pub fn plots_section(plots: &[(String, String)]) -> String {
    let mut out = String::new();
    if !plots.is_empty() {
        out.push_str("## Plots\n\n");
        for (file, caption) in plots {
            writeln!(out, "- [{caption}]({file})").unwrap();
        }
        out.push('\n');
    }
    out
}
