//! Every list of implementations a user sees comes from the engine's one table of built-ins
//! (`crates/engine/src/impls/mod.rs`), and names all of them: the help texts, the error for an
//! unknown name, and the table of implementations in docs/implementations.md.

mod common;

use bq_engine::Builtin;

fn bqh(args: &[&str]) -> (bool, String) {
    let out = common::bqh(args);
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn missing(text: &str) -> Vec<&'static str> {
    Builtin::ALL.iter().map(|b| b.name()).filter(|n| !text.contains(n)).collect()
}

#[test]
fn the_table_has_ten_distinct_names_and_colours() {
    assert_eq!(Builtin::ALL.len(), 10);
    for (i, a) in Builtin::ALL.iter().enumerate() {
        assert_eq!(Builtin::from_name(a.name()), Some(*a));
        let adapter = bq_engine::with_builtin!(*a, |imp| bq_engine::Impl::name(imp).to_string());
        assert_eq!(adapter, a.name(), "the adapter of {a} names itself {adapter}");
        for b in &Builtin::ALL[i + 1..] {
            assert_ne!(a.name(), b.name());
            assert_ne!(a.colour(), b.colour(), "{a} and {b} share a colour");
        }
        if let Some(s) = a.swap_sibling() {
            assert!(s.swap_sibling().is_none(), "{a}'s sibling {s} is itself a swap buffer");
        }
        // The few-series figures keep each design in driven mode, and leave the swap buffers
        // to their own tables: a design the table gives no headline colour would vanish.
        let driven = a.headline_colour(bq_engine::row::Mode::Driven);
        assert_eq!(driven.is_some(), a.swap_sibling().is_none(), "{a}: headline colour {driven:?}");
    }
}

#[test]
fn every_help_text_names_every_built_in() {
    let (ok, top) = bqh(&["--help"]);
    assert!(ok, "{top}");
    assert_eq!(missing(&top), Vec::<&str>::new(), "bqh --help:\n{top}");
    for cmd in ["compare", "scale", "strategies", "memory", "shutdown"] {
        let (ok, help) = bqh(&[cmd, "--help"]);
        assert!(ok, "{help}");
        assert_eq!(missing(&help), Vec::<&str>::new(), "bqh {cmd} --help:\n{help}");
    }
}

#[test]
fn an_unknown_name_is_refused_with_every_built_in_named() {
    for cmd in ["compare", "scale", "strategies", "memory", "shutdown"] {
        let (ok, err) = bqh(&[cmd, "--impl", "no-such-queue", "--out", "/nonexistent/never-written"]);
        assert!(!ok, "bqh {cmd} accepted an unknown implementation");
        assert!(err.contains("no-such-queue"), "bqh {cmd}: {err}");
        assert_eq!(missing(&err), Vec::<&str>::new(), "bqh {cmd} --impl no-such-queue:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn the_readme_table_names_every_built_in() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/implementations.md")).unwrap();
    let start =
        readme.find("\n## The implementations\n").expect("docs/implementations.md: no section 'The implementations'");
    let table: String = readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.is_empty() || l.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");
    for b in Builtin::ALL {
        assert!(
            table.contains(&format!("| `{}` |", b.name())),
            "docs/implementations.md's table of implementations has no row for {b}"
        );
    }
}
