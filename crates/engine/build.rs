//! Builds the foreign queues into the harness:
//! - `c/bq.c` with the `cc` crate (warnings are errors);
//! - `c/bq_vyukov.c` likewise, with the functions of `c/bq.h` renamed `bqv_*` by the
//!   preprocessor, so that it links next to `c/bq.c` while the same source also builds
//!   unchanged into a plugin exporting the real names;
//! - `ocaml/*.ml` with plain `ocamlopt -output-complete-obj`, which bundles the OCaml runtime,
//!   the stdlib, unix and threads into one object linked into every harness binary.
//!
//! ocamlopt is taken from `$OCAMLOPT` (`make setup` provides it, see .cargo/config.toml), else
//! from `PATH`; it must be OCaml >= 5.1 (ocaml-interop 0.12).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The functions of `c/bq.h` (`bq_pop_many` is optional there): `c/bq_vyukov.c` is built with
/// each renamed `bqv_*`, `c/bq_swap.c` with each renamed `bqs_*`.
const BQ_FUNCTIONS: &[&str] = &[
    "bq_new",
    "bq_push",
    "bq_try_push",
    "bq_push_timeout",
    "bq_pop",
    "bq_try_pop",
    "bq_pop_timeout",
    "bq_pop_many",
    "bq_close",
    "bq_len",
    "bq_capacity",
    "bq_free",
];

/// OCaml sources in link order, relative to `ocaml/`. `bqueue.mli` first: `bqueue.ml` is
/// checked against the documented signature, as a user's module is by `bqh validate
/// --reference your_queue.ml` (src/impls/ocaml_module.rs).
const OCAML_SOURCES: &[&str] =
    &["clock_stubs.c", "bqueue.mli", "bqueue.ml", "bq_swap.ml", "bq_ffi.ml", "bq_native.ml", "bq_memory.ml"];

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());

    println!("cargo:rerun-if-changed={}", root.join("c").display());
    cc::Build::new()
        .file(root.join("c/bq.c"))
        .file(root.join("c/bq_native.c"))
        .file(root.join("c/boundary_probes.c"))
        .include(root.join("c"))
        .flag("-std=c11")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("bq_c");
    for (source, prefix, lib) in [("c/bq_vyukov.c", "bqv_", "bq_vyukov"), ("c/bq_swap.c", "bqs_", "bq_swap")] {
        let mut renamed = cc::Build::new();
        for f in BQ_FUNCTIONS {
            renamed.define(f, format!("{prefix}{}", &f["bq_".len()..]).as_str());
        }
        renamed
            .file(root.join(source))
            .include(root.join("c"))
            .flag("-std=c11")
            .warnings(true)
            .extra_warnings(true)
            .warnings_into_errors(true)
            .compile(lib);
    }
    println!("cargo:rustc-link-lib=pthread");

    build_ocaml(&root.join("ocaml"), &out);
    record_versions();
}

/// Compiler versions for the results' env.json.
fn record_versions() {
    let first_line = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_string))
            .unwrap_or_else(|| "unknown".into())
    };
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    println!("cargo:rustc-env=BQ_RUSTC_VERSION={}", first_line(&rustc, "--version"));
    let cc = cc::Build::new().get_compiler();
    println!("cargo:rustc-env=BQ_CC_VERSION={}", first_line(&cc.path().to_string_lossy(), "--version"));
}

fn find_ocamlopt() -> PathBuf {
    // .cargo/config.toml sets OCAMLOPT to the toolchain `make setup` linked; a value from the
    // environment wins. The version is pinned in the Makefile only.
    println!("cargo:rerun-if-env-changed=OCAMLOPT");
    env::var_os("OCAMLOPT").map_or_else(|| PathBuf::from("ocamlopt"), PathBuf::from)
}

fn build_ocaml(src: &Path, out: &Path) {
    println!("cargo:rerun-if-changed={}", src.display());
    let ocamlopt = find_ocamlopt();
    let version = Command::new(&ocamlopt).arg("-version").output();
    let version = match version {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => fail(&format!("cannot run {}", ocamlopt.display())),
    };
    let major_minor: Vec<u32> = version.split('.').take(2).filter_map(|p| p.parse().ok()).collect();
    if major_minor < vec![5, 1] {
        fail(&format!("{} is OCaml {version}; ocaml-interop 0.12 needs OCaml >= 5.1", ocamlopt.display()));
    }

    // ocamlopt writes its intermediates next to the sources: compile copies in OUT_DIR.
    let work = out.join("ocaml");
    std::fs::create_dir_all(&work).unwrap();
    for f in OCAML_SOURCES {
        std::fs::copy(src.join(f), work.join(f)).unwrap_or_else(|e| fail(&format!("cannot copy ocaml/{f}: {e}")));
    }
    let object = out.join("ocaml_queues.o");
    let status = Command::new(&ocamlopt)
        .current_dir(&work)
        .args(["-O3"].iter().filter(|_| has_flambda(&ocamlopt)))
        .args(["-I", "+unix", "-I", "+threads", "unix.cmxa", "threads.cmxa"])
        // All warnings but the noisy style ones, as errors: the OCaml side is held to the
        // same bar as the C side's -Wall -Wextra -Werror.
        .args(["-w", "+a-4-9-40-41-42-44-45-70", "-warn-error", "+a"])
        .args(["-ccopt", "-O2", "-output-complete-obj", "-o"])
        .arg(&object)
        .args(OCAML_SOURCES)
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run {}: {e}", ocamlopt.display())));
    if !status.success() {
        fail("ocamlopt failed on ocaml/ (its errors are above)");
    }
    // A static library linked whole (`+whole-archive`): ocaml-sys's own C stubs refer to the
    // runtime symbols it carries, which a plain archive would drop as unused. A library, not a
    // link argument, so that every crate linking this one (the harness's bin, tests and
    // benches) links it too.
    let archive = out.join("libocaml_queues.a");
    let _ = std::fs::remove_file(&archive);
    let ar = cc::Build::new().get_archiver();
    let status = Command::new(ar.get_program())
        .args(ar.get_args())
        .arg("crs")
        .arg(&archive)
        .arg(&object)
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run ar: {e}")));
    if !status.success() {
        fail("ar failed to archive the OCaml object");
    }
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static:+whole-archive,-bundle=ocaml_queues");
    let libs = Command::new(&ocamlopt).args(["-config-var", "native_c_libraries"]).output().unwrap();
    for lib in String::from_utf8_lossy(&libs.stdout).split_whitespace() {
        if let Some(name) = lib.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={name}");
        }
    }
    println!("cargo:rustc-env=BQ_OCAML_VERSION={version}");
    // The compiler `bqh validate --reference your_queue.ml` uses when OCAMLOPT is unset.
    println!("cargo:rustc-env=BQ_OCAMLOPT={}", ocamlopt.canonicalize().unwrap_or(ocamlopt.clone()).display());
}

fn has_flambda(ocamlopt: &Path) -> bool {
    Command::new(ocamlopt)
        .args(["-config-var", "flambda"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
        .unwrap_or(false)
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    eprintln!("hint: run `make setup` (it finds or builds OCaml 5.3 and tells cargo where it is)");
    std::process::exit(1);
}
