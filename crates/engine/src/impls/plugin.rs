//! External implementations of `c/bq.h`, loaded at run time with `libloading` (`bqh validate
//! --candidate path/to/libX.so`, `make validate PLUGIN=...`). The loaded functions fill a
//! [`BqAbi`] table, so a plugin goes through the same adapter (`CQueue`) as the built-in C queue.
//!
//! Loading runs the library's constructors and calling it runs untrusted code: `bqh validate`
//! does both in a child process, so that a crash is reported instead of taking the harness down.

use std::path::{Path, PathBuf};

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};

use super::c_abi::{BqAbi, CQueue, PopManyFn, SYMBOLS};
use super::closing;
use crate::queue::{Impl, NewError, Traits};

/// The optional function of `c/bq.h`: used when the plugin exports it, else built from
/// `bq_pop` and `bq_try_pop`.
pub const OPTIONAL_SYMBOL: &str = "bq_pop_many";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: no such file")]
    NotFound { path: String },
    #[error(
        "{path} cannot be loaded as a shared library ({reason}); build it with \
         `gcc -shared -fPIC -O2 -I c -o libX.so X.c -lpthread`"
    )]
    NotALibrary { path: String, reason: String },
    #[error("{path} does not export {}: a plugin must export every function of c/bq.h", missing.join(", "))]
    MissingSymbols { path: String, missing: Vec<String> },
    /// An OCaml module (`.ml`) that does not build: the compiler's message and what to change.
    #[error("{0}")]
    OCaml(String),
}

/// A shared library that exports the C ABI of `c/bq.h`.
pub struct Plugin {
    name: String,
    path: PathBuf,
    abi: BqAbi,
    /// An OCaml module's own runners on domains and on systhreads (`ocaml_module.rs`).
    native: Option<[super::c_abi::native::RunFn; 2]>,
}

impl Plugin {
    /// Loads `path` and resolves every symbol of `c/bq.h`. The library is never unloaded: queues
    /// (and threads left behind by a hang) may still point into it. An OCaml module
    /// (`your_queue.ml`, implementing `ocaml/bqueue.mli`) is first built into a library
    /// (`ocaml_module.rs`) and keeps its own name.
    pub fn load(path: &Path) -> Result<Plugin, LoadError> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(LoadError::NotFound { path: shown });
        }
        if super::ocaml_module::is_source(path) {
            let lib = super::ocaml_module::build(path).map_err(LoadError::OCaml)?;
            return Plugin::load(&lib).map(|p| Plugin { name: shown, path: path.to_path_buf(), ..p });
        }
        // dlopen searches the library path for a bare file name: make it a path.
        let full = if path.is_absolute() || path.components().count() > 1 {
            path.to_path_buf()
        } else {
            Path::new(".").join(path)
        };
        // SAFETY: loading runs the library's initialisers; that is the point, and validation
        // runs it in a child process. RTLD_NOW: an unresolved dependency fails here, not at
        // the first call.
        let lib = unsafe { Library::open(Some(&full), RTLD_NOW | RTLD_LOCAL) }
            .map_err(|e| LoadError::NotALibrary { path: shown.clone(), reason: e.to_string() })?;
        let lib: &'static Library = Box::leak(Box::new(lib));
        let mut missing = Vec::new();
        // SAFETY: each symbol is the named function of c/bq.h, whose signature BqAbi mirrors;
        // that the library honours the header is what validation checks.
        let mut get = |name: &str| match unsafe { lib.get::<*const ()>(name.as_bytes()) } {
            Ok(sym) => *sym,
            Err(_) => {
                missing.push(name.to_string());
                std::ptr::null()
            }
        };
        let found: Vec<*const ()> = SYMBOLS.iter().map(|n| get(n)).collect();
        if !missing.is_empty() || found.iter().any(|p| p.is_null()) {
            return Err(LoadError::MissingSymbols { path: shown, missing });
        }
        // SAFETY: as above, for the optional function's signature.
        let pop_many = unsafe { lib.get::<PopManyFn>(OPTIONAL_SYMBOL.as_bytes()) }.ok().map(|f| *f);
        // SAFETY: as above: a built OCaml module exports both runners with bq_native_run's
        // signature (ocaml_module.rs); another library exports neither.
        let runner = |name: &str| unsafe { lib.get::<super::c_abi::native::RunFn>(name.as_bytes()) }.ok().map(|f| *f);
        let [domains, systhreads] = super::ocaml_module::NATIVE_SYMBOLS.map(runner);
        let native = domains.zip(systhreads).map(|(d, s)| [d, s]);
        // SAFETY: as above; every pointer is non-null.
        let abi = unsafe {
            BqAbi {
                new: function(found[0]),
                push: function(found[1]),
                try_push: function(found[2]),
                push_timeout: function(found[3]),
                pop: function(found[4]),
                try_pop: function(found[5]),
                pop_timeout: function(found[6]),
                pop_many,
                close: function(found[7]),
                len: function(found[8]),
                capacity: function(found[9]),
                free: function(found[10]),
            }
        };
        Ok(Plugin { name: shown, path: path.to_path_buf(), abi, native })
    }

    /// Loads `path` for the life of the process (the probes and checks take `&'static Impl`).
    pub fn load_static(path: &Path) -> Result<&'static Plugin, LoadError> {
        Plugin::load(path).map(|p| &*Box::leak(Box::new(p)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn abi(&self) -> BqAbi {
        self.abi
    }

    /// Runs `spec` once on the module's own domains (`domains`) or systhreads, with
    /// `ocaml/bq_native.ml`, as the built-in OCaml queue's native runs: an OCaml module only.
    pub fn run_native(&self, spec: &crate::workloads::RunSpec, domains: bool) -> anyhow::Result<crate::measure::Tally> {
        let Some([d, s]) = self.native else {
            anyhow::bail!("{} has no native runner: only an OCaml module (.ml) runs on its own threads", self.name)
        };
        let what =
            if domains { "the OCaml module's runner on domains" } else { "the OCaml module's runner on systhreads" };
        super::c_abi::native::run_with(if domains { d } else { s }, what, spec)
    }
}

/// A symbol's address as the function pointer type `F`.
///
/// # Safety
/// `F` must be the type of the function at `p`.
unsafe fn function<F: Copy>(p: *const ()) -> F {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*const ()>());
    std::mem::transmute_copy(&p)
}

impl Impl for Plugin {
    type Tx = closing::Tx<CQueue>;
    type Rx = closing::Rx<CQueue>;

    fn name(&self) -> &str {
        &self.name
    }
    /// What c/bq.h promises: an explicit close, `bq_len`, a native timed push, no capacity 0.
    fn traits(&self) -> Traits {
        Traits {
            explicit_close: true,
            rendezvous: false,
            has_len: true,
            native_push_timeout: true,
            exact_try_pop: true,
        }
    }
    fn make(&self, capacity: usize) -> Result<(Self::Tx, Self::Rx), NewError> {
        let q = CQueue::new(self.abi, capacity).ok_or_else(|| NewError::Failed {
            name: self.name.clone(),
            capacity,
            reason: "bq_new returned NULL".into(),
        })?;
        Ok(closing::handles(q))
    }
}
