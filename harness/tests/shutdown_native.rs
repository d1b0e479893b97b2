//! The native shutdown probes (`crates/engine/src/shutdown/own_api.rs`): each built-in's own API gives
//! the answers its language's design implies, every probe ends within its deadline (no thread
//! left blocked), and `bqh shutdown --out` writes a results folder that `bqh report` redraws
//! as written.

use std::path::PathBuf;
use std::time::Duration;

use bq_engine::shutdown::own_api::{probe_all, GRACE, PROBE_LIMIT};
use bq_engine::shutdown::{NativeQuestion, Verdict};
use bq_engine::watchdog::within;
use bq_engine::Builtin;

use NativeQuestion::*;
use Verdict::{No, Yes};

mod common;
use common::bqh;

/// What each API does, by design: channels close on drop and hand refused items back; the
/// explicit-close queues wait for someone to close them; std and tokio drop buffered items when
/// their receiver goes (crossbeam keeps them until the channel goes); only the port's queues
/// drop a refused item.
fn expected(b: Builtin) -> [(NativeQuestion, Verdict); 5] {
    let (dies, returns, drops, closes) = match b {
        Builtin::RustSyncChannel | Builtin::Tokio => (Yes, Yes, Yes, No),
        Builtin::Crossbeam => (Yes, Yes, No, No),
        Builtin::RustPort | Builtin::RustSwap => (No, No, No, Yes),
        Builtin::CPthread | Builtin::CVyukov | Builtin::Ocaml | Builtin::CSwap | Builtin::OcamlSwap => {
            (No, Yes, No, Yes)
        }
    };
    [
        (ProducersReleasedWhenConsumerDies, dies),
        (ConsumerReleasedWhenProducerDies, dies),
        (RefusedPushReturnsItem, returns),
        (BufferDroppedWhenConsumersLeave, drops),
        (OneHolderClosesForAll, closes),
    ]
}

#[test]
fn each_api_answers_as_its_design_implies_and_no_probe_hangs() {
    // Five probes, two of which wait GRACE and then close: well inside the limit when nothing hangs.
    let limit = PROBE_LIMIT * NativeQuestion::ALL.len() as u32 + Duration::from_secs(10);
    for &b in Builtin::ALL {
        let obs = within(&format!("native shutdown probes of {b}"), limit, move || probe_all(b))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(obs.len(), NativeQuestion::ALL.len(), "{b}: one observation per question");
        for ((q, want), o) in expected(b).into_iter().zip(&obs) {
            assert_eq!(o.question, q, "{b}: questions in NativeQuestion::ALL's order");
            assert_eq!(o.implementation, b.name());
            assert!(!o.api.is_empty() && !o.detail.is_empty(), "{b}: {q:?} says what API it probed and what it saw");
            assert_eq!(o.verdict, want, "{b}: '{}': {}", q.text(), o.detail);
        }
    }
}

#[test]
fn an_explicit_close_queue_is_released_by_the_probe_after_its_grace() {
    // The "no" of an explicit-close queue comes from a bounded wait (GRACE), then the probe's
    // own close releases the blocked threads: the probes return, under the watchdog.
    let obs = within("rust-port native probes", PROBE_LIMIT * 5, || probe_all(Builtin::RustPort)).unwrap();
    let grace = format!("{:.1} ms", GRACE.as_secs_f64() * 1e3);
    assert!(obs[0].detail.contains(&grace) && obs[0].detail.contains("until the probe's close"), "{}", obs[0].detail);
    assert!(
        obs[1].detail.contains(&grace) && obs[1].detail.contains("released by the probe's close"),
        "{}",
        obs[1].detail
    );
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("shutdown-native", name)
}

#[test]
fn bqh_shutdown_out_writes_a_folder_that_redraws_as_written() {
    let dir = scratch("out");
    let out = bqh(&["shutdown", "--impl", "crossbeam,c-pthread", "--out", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("| API |") && stdout.contains("`crossbeam_channel::bounded`"), "{stdout}");
    for f in ["env.json", "shutdown.csv", "shutdown-native.csv", "summary.md"] {
        assert!(dir.join(f).is_file(), "bqh shutdown --out wrote no {f}");
    }
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("## Shutdown in each language's own terms"), "{summary}");
    assert_eq!(harness::shutdown::report::read_native(&dir).unwrap().len(), 2 * NativeQuestion::ALL.len());

    let redrawn = scratch("redrawn");
    let out = bqh(&["report", dir.to_str().unwrap(), "--out", redrawn.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["summary.md", "shutdown.csv", "shutdown-native.csv"] {
        assert_eq!(
            std::fs::read(dir.join(f)).unwrap(),
            std::fs::read(redrawn.join(f)).unwrap(),
            "{f} differs after a redraw"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&redrawn);
}

#[test]
fn bqh_shutdown_refuses_a_folder_it_did_not_write_before_probing() {
    let dir = scratch("foreign");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = bqh(&["shutdown", "--native", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "it probed before refusing: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    let _ = std::fs::remove_dir_all(&dir);
}
