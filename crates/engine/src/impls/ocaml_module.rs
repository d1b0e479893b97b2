//! A user's OCaml queue as a plugin: `bqh validate --reference your_queue.ml` (or
//! `--candidate`). The module must implement `ocaml/bqueue.mli`; it is compiled with the
//! project's ocamlopt as `bqueue.ml` next to that interface (so the compiler checks the
//! signature), then linked with `ocaml/bq_ffi.ml` (the callbacks), `ocaml/bq_plugin.c` (c/bq.h on
//! top of them) and a private OCaml runtime into one shared library whose only exported symbols
//! are c/bq.h's. bqh links its own OCaml runtime statically; the plugin's copy is bound inside
//! the library (a version script hides every other symbol), so the two never meet. The library
//! is then loaded like any plugin (`plugin.rs`), in validate's worker processes.
//!
//! The built library is cached in the system's temporary folder under a name made from a hash of
//! the module, bqh's OCaml sources and the compiler: the parent builds it once and its workers
//! find it there.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

const BQUEUE_MLI: &str = include_str!("../../../../ocaml/bqueue.mli");
const BQ_FFI_ML: &str = include_str!("../../../../ocaml/bq_ffi.ml");
// bq_ffi.ml registers the swap buffer too, so the plugin links it beside the user's module.
const BQ_SWAP_ML: &str = include_str!("../../../../ocaml/bq_swap.ml");
const CLOCK_STUBS_C: &str = include_str!("../../../../ocaml/clock_stubs.c");
const BQ_PLUGIN_C: &str = include_str!("../../../../ocaml/bq_plugin.c");
const BQ_H: &str = include_str!("../../../../c/bq.h");
// The native runner, generic over any module named Bqueue: the user's original runs on its own
// domains and systhreads too (`NATIVE_SYMBOLS`).
const BQ_NATIVE_ML: &str = include_str!("../../../../ocaml/bq_native.ml");
const BQ_NATIVE_H: &str = include_str!("../../../../c/bq_native.h");

/// What a built module exports beside c/bq.h: `bq_native_run`'s signature, one per runner.
pub const NATIVE_SYMBOLS: [&str; 2] = ["bq_native_run_domains", "bq_native_run_systhreads"];

/// Whether `path` names an OCaml source (rather than a shared library).
pub fn is_source(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "ml")
}

/// The ocamlopt to use: `$OCAMLOPT`, else the one bqh was built with (`make setup`'s
/// `.ocaml-toolchain`), else `ocamlopt` from `PATH`.
pub fn ocamlopt() -> PathBuf {
    std::env::var_os("OCAMLOPT")
        .map(PathBuf::from)
        .or_else(|| option_env!("BQ_OCAMLOPT").map(PathBuf::from).filter(|p| p.exists()))
        .unwrap_or_else(|| PathBuf::from("ocamlopt"))
}

/// Builds `source` into a plugin (or finds it built) and returns the library's path. Errors
/// carry the compiler's message and what to change.
pub fn build(source: &Path) -> Result<PathBuf, String> {
    let shown = source.display().to_string();
    let text = std::fs::read_to_string(source).map_err(|e| format!("{shown}: {e}"))?;
    let ocamlopt = ocamlopt();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&text, BQUEUE_MLI, BQ_FFI_ML, BQ_SWAP_ML, CLOCK_STUBS_C, BQ_PLUGIN_C, BQ_H, BQ_NATIVE_ML, BQ_NATIVE_H, &ocamlopt)
        .hash(&mut h);
    let dir = std::env::temp_dir().join(format!("bqh-ocaml-{:016x}", h.finish()));
    let lib = dir.join("libbqueue.so");
    if lib.exists() {
        return Ok(lib);
    }
    // Built in a folder of this process's own, then renamed into place: two bqh processes may
    // build the same module at once.
    let work = std::env::temp_dir().join(format!("bqh-ocaml-build-{}-{:016x}", std::process::id(), h.finish()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    // A failed build leaves nothing behind: bqh deletes what it created.
    let built = (|| -> Result<(), String> {
        for (name, body) in [
            ("bqueue.ml", text.as_str()),
            ("bqueue.mli", BQUEUE_MLI),
            ("bq_swap.ml", BQ_SWAP_ML),
            ("bq_ffi.ml", BQ_FFI_ML),
            ("clock_stubs.c", CLOCK_STUBS_C),
            ("bq_plugin.c", BQ_PLUGIN_C),
            ("bq.h", BQ_H),
            ("bq_native.ml", BQ_NATIVE_ML),
            ("bq_native.h", BQ_NATIVE_H),
            (
                "exports.map",
                &format!(
                    "{{ global: {}; {}; local: *; }};\n",
                    super::c_abi::SYMBOLS.join("; "),
                    NATIVE_SYMBOLS.join("; ")
                ),
            ),
        ] {
            std::fs::write(work.join(name), body)
                .map_err(|e| format!("cannot write {}: {e}", work.join(name).display()))?;
        }
        let run = |cmd: &mut Command| -> Result<(), String> {
            let what = format!("{cmd:?}");
            let out = cmd.current_dir(&work).output().map_err(|e| {
                format!("cannot run {what}: {e}; run `make setup` (it provides OCaml 5.3) or set OCAMLOPT")
            })?;
            if out.status.success() {
                Ok(())
            } else {
                let msg = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
                // The compiler knows the copies by their names here: say which files they are.
                Err(msg
                    .replace("\"bqueue.ml\"", &format!("\"{shown}\""))
                    .replace("\"bqueue.mli\"", "\"ocaml/bqueue.mli\""))
            }
        };
        let threads = ["-I", "+unix", "-I", "+threads", "unix.cmxa", "threads.cmxa"];
        // The signature first, on its own, so that a mismatch is reported as one.
        run(Command::new(&ocamlopt).args(["-c", "bqueue.mli"])).map_err(|m| {
            format!("ocaml/bqueue.mli does not compile with {} (is it OCaml >= 5.1?):\n{m}", ocamlopt.display())
        })?;
        run(Command::new(&ocamlopt).args(&threads[..4]).args(["-c", "bqueue.ml"])).map_err(|m| {
            if m.contains("does not match the interface") {
                format!(
                    "{shown} does not match the signature of ocaml/bqueue.mli:\n{m}\n\
                     Change your module so that it provides every value of ocaml/bqueue.mli with that type \
                     (the compiler's message above names the first that differs; labels such as ~timeout_ns count)."
                )
            } else {
                format!("{shown} does not compile (with {}):\n{m}", ocamlopt.display())
            }
        })?;
        // -linkall: the threads library must initialise even if the module never names Thread.
        run(Command::new(&ocamlopt)
            .args(threads)
            .args(["-linkall", "-runtime-variant", "_pic", "-ccopt", "-fPIC", "-ccopt", "-O2", "-ccopt", "-I."])
            .args(["-output-complete-obj", "-o", "bqueue_plugin.o"])
            .args(["clock_stubs.c", "bq_plugin.c", "bqueue.ml", "bq_swap.ml", "bq_ffi.ml", "bq_native.ml"]))
        .map_err(|m| format!("linking {shown} with the OCaml runtime failed:\n{m}"))?;
        let libs =
            Command::new(&ocamlopt).args(["-config-var", "native_c_libraries"]).output().map_err(|e| e.to_string())?;
        let libs = String::from_utf8_lossy(&libs.stdout).to_string();
        run(Command::new("gcc")
            .args([
                "-shared",
                "-o",
                "libbqueue.so",
                "bqueue_plugin.o",
                "-Wl,--version-script=exports.map",
                "-Wl,-Bsymbolic",
            ])
            .args(libs.split_whitespace()))
        .map_err(|m| format!("gcc could not make a shared library of {shown}:\n{m}"))?;
        // Only the library is cached: the objects (about 13 MB) are of no further use.
        for e in std::fs::read_dir(&work).map_err(|e| e.to_string())?.flatten() {
            if e.file_name() != "libbqueue.so" {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    })();
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&work);
        return Err(e);
    }
    if std::fs::rename(&work, &dir).is_err() && !lib.exists() {
        let _ = std::fs::remove_dir_all(&work);
        return Err(format!("cannot move {} to {}", work.display(), dir.display()));
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(lib)
}
