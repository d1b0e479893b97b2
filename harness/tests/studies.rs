//! Every study is listed once, in `harness::STUDIES`, and `bqh` offers exactly those: each is a
//! command of `bqh --help` with its line, and every other command there is one of the few that
//! are not studies. (Its folder and files are checked in `layout.rs`.)

use std::collections::BTreeSet;

use harness::STUDIES;

mod common;

/// The commands of `bqh --help` that are not studies (`isolated` is hidden).
const NOT_STUDIES: [&str; 4] = ["report", "diff", "validate", "help"];

/// The commands `bqh --help` lists, each with its line.
fn commands() -> Vec<(String, String)> {
    let o = common::bqh(&["--help"]);
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(o.status.success(), "bqh --help failed: {}", String::from_utf8_lossy(&o.stderr));
    let start = help.find("\nCommands:\n").unwrap_or_else(|| panic!("bqh --help has no Commands: section:\n{help}"));
    help[start + "\nCommands:\n".len()..]
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let (name, about) = l.trim().split_once(' ').unwrap_or((l.trim(), ""));
            (name.to_string(), about.trim().to_string())
        })
        .collect()
}

#[test]
fn the_studies_have_distinct_names() {
    let names: BTreeSet<&str> = STUDIES.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), STUDIES.len(), "harness::STUDIES lists a name twice");
    for s in STUDIES {
        assert!(!NOT_STUDIES.contains(&s.name()), "the study '{}' takes the name of a command of bqh", s.name());
    }
}

#[test]
fn every_study_is_a_command_and_every_command_a_study() {
    let listed = commands();
    for s in STUDIES {
        assert!(
            listed.iter().any(|(name, about)| name == s.name() && about == s.about()),
            "bqh --help does not list the study '{}' with its line '{}': {listed:?}",
            s.name(),
            s.about()
        );
    }
    for (name, _) in &listed {
        assert!(
            STUDIES.iter().any(|s| s.name() == name) || NOT_STUDIES.contains(&name.as_str()),
            "bqh --help lists '{name}', which is neither in harness::STUDIES nor one of {NOT_STUDIES:?}"
        );
    }
}

#[test]
fn every_study_has_its_own_help() {
    for s in STUDIES {
        let o = common::bqh(&[s.name(), "--help"]);
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "bqh {} --help: {}", s.name(), String::from_utf8_lossy(&o.stderr));
        assert!(help.starts_with(s.about()), "bqh {} --help does not open with its line:\n{help}", s.name());
    }
}
