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

/// A table's head: `| first | a | b |`, each column as `name` shows it, then its rule.
pub fn table_head<T>(out: &mut String, first: &str, columns: &[T], name: impl Fn(&T) -> String) {
    write!(out, "| {first} |").unwrap();
    columns.iter().for_each(|c| write!(out, " {} |", name(c)).unwrap());
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
}

/// Microseconds as a table shows them: whole from 100, one decimal from 1, two below.
pub fn micros(us: f64) -> String {
    if us >= 100.0 {
        format!("{us:.0}")
    } else if us >= 1.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.2}")
    }
}
