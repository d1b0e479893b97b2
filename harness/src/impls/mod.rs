//! The implementations behind [`crate::queue::Impl`], one file per language boundary.

pub mod c_abi;
pub mod closing;
pub mod ocaml;
pub mod ocaml_module;
pub mod plugin;
pub mod rust_channels;
pub mod rust_port;
pub mod tokio;

pub use c_abi::{CPthread, CSwap, CVyukov};
pub use ocaml::{Ocaml, OcamlSwap};
pub use rust_channels::{Crossbeam, CrossbeamUnbounded, RustChannel, RustSyncChannel};
pub use rust_port::{RustPort, RustSwap};
pub use tokio::Tokio;

/// The built-in implementations, in the order reports list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builtin {
    RustSyncChannel,
    Crossbeam,
    CPthread,
    CVyukov,
    Ocaml,
    RustPort,
    Tokio,
    CSwap,
    OcamlSwap,
    RustSwap,
}

impl Builtin {
    pub const ALL: [Builtin; 10] = [
        Builtin::RustSyncChannel,
        Builtin::Crossbeam,
        Builtin::CPthread,
        Builtin::CVyukov,
        Builtin::Ocaml,
        Builtin::RustPort,
        Builtin::Tokio,
        Builtin::CSwap,
        Builtin::OcamlSwap,
        Builtin::RustSwap,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::RustSyncChannel => "rust-sync-channel",
            Builtin::Crossbeam => "crossbeam",
            Builtin::CPthread => "c-pthread",
            Builtin::CVyukov => "c-vyukov",
            Builtin::Ocaml => "ocaml",
            Builtin::RustPort => "rust-port",
            Builtin::Tokio => "tokio",
            Builtin::CSwap => "c-swap",
            Builtin::OcamlSwap => "ocaml-swap",
            Builtin::RustSwap => "rust-swap",
        }
    }

    /// Its colour in every plot (RGB), so that a reader can follow one queue across figures.
    pub fn colour(self) -> (u8, u8, u8) {
        match self {
            Builtin::RustSyncChannel => (230, 120, 0),
            Builtin::Crossbeam => (31, 100, 200),
            Builtin::CPthread => (40, 150, 60),
            Builtin::CVyukov => (0, 170, 170),
            Builtin::Ocaml => (200, 40, 120),
            Builtin::RustPort => (120, 80, 40),
            Builtin::Tokio => (130, 60, 200),
            // The swap buffers: lighter shades of their language's mutex-and-condition queue.
            Builtin::CSwap => (120, 200, 110),
            Builtin::OcamlSwap => (235, 130, 180),
            Builtin::RustSwap => (190, 150, 100),
        }
    }

    /// For a swap buffer, the mutex-and-condition queue of the same language it is measured
    /// against (the goal: at least 3x its items per second at 64 producers).
    pub fn swap_sibling(self) -> Option<Builtin> {
        match self {
            Builtin::CSwap => Some(Builtin::CPthread),
            Builtin::OcamlSwap => Some(Builtin::Ocaml),
            Builtin::RustSwap => Some(Builtin::RustPort),
            _ => None,
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl std::fmt::Display for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An implementation as a command line names it: a built-in, or a path to a shared library
/// that exports `c/bq.h` (a plugin). Copy, so that plans can hold it: a plugin's path lives as
/// long as the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Builtin(Builtin),
    Plugin(&'static std::path::Path),
}

impl Choice {
    /// A built-in's name, or a path: anything with a `/` or ending in `.so` or `.ml` (an OCaml
    /// module implementing `ocaml/bqueue.mli`), or an existing file.
    pub fn parse(s: &str) -> Result<Choice, String> {
        if let Some(b) = Builtin::from_name(s) {
            return Ok(Choice::Builtin(b));
        }
        let path = std::path::Path::new(s);
        if s.contains('/') || s.ends_with(".so") || s.ends_with(".ml") || path.is_file() {
            return Ok(Choice::Plugin(Box::leak(path.to_path_buf().into_boxed_path())));
        }
        let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
        Err(format!(
            "unknown implementation '{s}': expected one of {}, or a path to a shared library exporting c/bq.h (e.g. ./libmybq.so)",
            names.join(", ")
        ))
    }

    /// The name rows and reports use: the built-in's, or the path as given.
    pub fn name(self) -> String {
        match self {
            Choice::Builtin(b) => b.name().to_string(),
            Choice::Plugin(p) => p.display().to_string(),
        }
    }
}

impl serde::Serialize for Choice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// Runs `$body` with `$imp` bound to the implementation `$which` names. The body is
/// monomorphised per implementation, so the hot loops it calls have no dynamic dispatch.
#[macro_export]
macro_rules! with_builtin {
    ($which:expr, |$imp:ident| $body:expr) => {
        match $which {
            $crate::impls::Builtin::RustSyncChannel => {
                let $imp = &$crate::impls::RustSyncChannel;
                $body
            }
            $crate::impls::Builtin::Crossbeam => {
                let $imp = &$crate::impls::Crossbeam;
                $body
            }
            $crate::impls::Builtin::CPthread => {
                let $imp = &$crate::impls::CPthread;
                $body
            }
            $crate::impls::Builtin::CVyukov => {
                let $imp = &$crate::impls::CVyukov;
                $body
            }
            $crate::impls::Builtin::Ocaml => {
                let $imp = &$crate::impls::Ocaml;
                $body
            }
            $crate::impls::Builtin::RustPort => {
                let $imp = &$crate::impls::RustPort;
                $body
            }
            $crate::impls::Builtin::Tokio => {
                let $imp = &$crate::impls::Tokio;
                $body
            }
            $crate::impls::Builtin::CSwap => {
                let $imp = &$crate::impls::CSwap;
                $body
            }
            $crate::impls::Builtin::OcamlSwap => {
                let $imp = &$crate::impls::OcamlSwap;
                $body
            }
            $crate::impls::Builtin::RustSwap => {
                let $imp = &$crate::impls::RustSwap;
                $body
            }
        }
    };
}
