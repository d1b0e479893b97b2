//! The shape of the code, checked: no import circle between the modules of the harness's crates
//! (the crate boundaries make the engine and the results layer unable to import a study at all;
//! this checks inside each crate), and every study of `harness::STUDIES` a folder with the same
//! files.
//!
//! A module may use its own ancestors and descendants (a study's `report.rs` reads its folder's
//! `mod.rs`); any other chain of `crate::` and `super::` paths that comes back to where it
//! started is a circle, and is named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, with its module path (`compare/report.rs` is `compare::report`).
fn modules(src: &Path) -> BTreeMap<Vec<String>, String> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<Vec<String>, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, src, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(src).unwrap().with_extension("");
                let mut path: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                if matches!(path.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    path.pop();
                }
                // Test code at the end of a file uses `super::*`: it is not an import of the module.
                let text = std::fs::read_to_string(&p).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap().to_string();
                out.insert(path, code);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The modules each module names through `crate::` or `super::` paths.
fn edges(mods: &BTreeMap<Vec<String>, String>) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut out = BTreeMap::new();
    for (m, code) in mods {
        let mut to = BTreeSet::new();
        for (prefix, base) in [("crate::", Vec::new()), ("super::", m[..m.len().saturating_sub(1)].to_vec())] {
            let mut rest = code.as_str();
            while let Some(i) = rest.find(prefix) {
                // `$crate::` in a macro is the crate root too; `super::super::` is not followed.
                let after = &rest[i + prefix.len()..];
                rest = after;
                let mut path = base.clone();
                let mut seg = after;
                loop {
                    let id = ident(seg.trim_start_matches("r#"));
                    if id.is_empty() {
                        break;
                    }
                    path.push(id.clone());
                    let skip = seg.find(&id).unwrap() + id.len();
                    seg = &seg[skip..];
                    match seg.strip_prefix("::") {
                        Some(s) => seg = s,
                        None => break,
                    }
                }
                // The longest prefix that is a module.
                while !path.is_empty() && !mods.contains_key(&path) {
                    path.pop();
                }
                let related = path.starts_with(m) || m.starts_with(&path);
                if !related {
                    to.insert(path);
                }
            }
        }
        out.insert(m.clone(), to);
    }
    out
}

/// A circle among `edges`, as the module names it passes through.
fn circle(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        m: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == m) {
            let mut c: Vec<String> = stack[i..].iter().map(|s| s.join("::")).collect();
            c.push(m.join("::"));
            return Some(c);
        }
        if !done.insert(m.clone()) {
            return None;
        }
        stack.push(m.clone());
        for n in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(n, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|m| visit(m, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_in_a_circle() {
    for src in ["crates/engine/src", "crates/results/src", "harness/src"] {
        let mods = modules(&root().join(src));
        assert!(mods.len() > 5, "{src}: found only {} modules", mods.len());
        if let Some(c) = circle(&edges(&mods)) {
            panic!("{src}: modules import each other in a circle: {}", c.join(" -> "));
        }
    }
}

#[test]
fn the_checker_sees_a_circle() {
    let mods: BTreeMap<Vec<String>, String> = [
        (vec!["a".to_string()], "use crate::b::f;".to_string()),
        (vec!["b".to_string()], "fn f() { crate::a::g() }".to_string()),
        (vec!["c".to_string()], "use crate::a;".to_string()),
    ]
    .into();
    assert_eq!(circle(&edges(&mods)), Some(vec!["a".into(), "b".into(), "a".into()]));
    let fine: BTreeMap<Vec<String>, String> =
        [(vec!["a".to_string()], "use crate::b;".to_string()), (vec!["b".to_string()], String::new())].into();
    assert_eq!(circle(&edges(&fine)), None);
}

/// Every study of the registry is its folder: `mod.rs` (its `Args`, `run` and `Study` type) and
/// `report.rs`; a `rows.rs` only where it has rows of its own.
#[test]
fn every_study_is_a_folder_with_the_same_files() {
    assert!(!harness::STUDIES.is_empty(), "harness::STUDIES lists no study");
    for study in harness::STUDIES {
        for file in ["mod.rs", "report.rs"] {
            let p = root().join("harness/src").join(study.name()).join(file);
            assert!(
                p.is_file(),
                "{} is missing: the study '{}' of harness::STUDIES is the folder harness/src/{}/, with mod.rs \
                 and report.rs",
                p.display(),
                study.name(),
                study.name()
            );
        }
    }
}
