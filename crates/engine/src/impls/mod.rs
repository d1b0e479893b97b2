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

/// Declares the built-ins from one table: the `Builtin` enum and its lists, names, colours (in
/// the full plots, and in the few-series figures: Okabe and Ito's, at most eight) and siblings, the native runners, and the two dispatch macros (`with_builtin!` over the harness
/// adapters, `with_native_api!` over each queue's own API for the native shutdown probes).
/// `$d` is a literal `$`, so that the macros written here can have parameters of their own.
/// Inside this crate both are in scope by `#[macro_use]` on `mod impls` (lib.rs); other crates
/// call `bq_engine::with_builtin!`.
macro_rules! builtins {
    ($d:tt $(
        $(#[doc = $doc:expr])*
        $variant:ident {
            name: $name:literal,
            adapter: $adapter:ident,
            colour: $colour:expr,
            headline: [$(($hmode:ident, $hcolour:expr)),*],
            swap_sibling: $sibling:expr,
            native: [$($native:expr),*],
            native_api: $api:ident $(,)?
        }
    )*) => {
        /// The built-in implementations, in the order reports list them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, serde::Serialize)]
        pub enum Builtin {
            $(
                $(#[doc = $doc])*
                #[value(name = $name)]
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl Builtin {
            pub const ALL: &'static [Builtin] = &[$(Builtin::$variant),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Builtin::$variant => $name,)*
                }
            }

            /// Its colour in every plot (RGB), so that a reader can follow one queue across figures.
            pub fn colour(self) -> (u8, u8, u8) {
                match self {
                    $(Builtin::$variant => $colour,)*
                }
            }

            /// Its colour in the few-series figures, in each mode they keep it in; `None` for a
            /// mode (or a whole built-in: the swap buffers) they leave out, by the table's choice.
            pub fn headline_colour(self, mode: crate::row::Mode) -> Option<(u8, u8, u8)> {
                let kept: &[(crate::row::Mode, (u8, u8, u8))] = match self {
                    $(Builtin::$variant => &[$((crate::row::Mode::$hmode, $hcolour)),*],)*
                };
                kept.iter().find(|(m, _)| *m == mode).map(|(_, c)| *c)
            }

            /// For a swap buffer, the mutex-and-condition queue of the same language it is
            /// measured against.
            pub fn swap_sibling(self) -> Option<Builtin> {
                match self {
                    $(Builtin::$variant => $sibling,)*
                }
            }

            /// The native runners of an implementation: each language's own threads (none for
            /// the Rust threaded queues, which are native in driven mode already).
            pub fn native_runners(self) -> &'static [NativeKind] {
                match self {
                    $(Builtin::$variant => &[$($native),*],)*
                }
            }
        }

        /// Runs `$body` with `$imp` bound to the implementation `$which` names. The body is
        /// monomorphised per implementation, so the hot loops it calls have no dynamic dispatch.
        #[macro_export]
        macro_rules! with_builtin {
            ($d which:expr, |$d imp:ident| $d body:expr) => {
                match $d which {
                    $($crate::impls::Builtin::$variant => {
                        let $d imp = &$crate::impls::$adapter;
                        $d body
                    })*
                }
            };
        }

        /// Runs `$body` with `$n` bound to the built-in's own API as the native shutdown probes
        /// see it. The table names each by the value `shutdown/own_api.rs` defines, and the macro
        /// is expanded there, so the name resolves where it is defined.
        macro_rules! with_native_api {
            ($d which:expr, |$d n:ident| $d body:expr) => {
                match $d which {
                    $($crate::impls::Builtin::$variant => {
                        let $d n = &$api;
                        $d body
                    })*
                }
            };
        }
    };
}

// The few-series figures' colours: Okabe and Ito's (`bq_results::plot::PALETTE`, which the other
// plots use too), grey for their yellow, which is hard to see on white.
const fn okabe(i: usize) -> (u8, u8, u8) {
    let c = bq_results::plot::PALETTE[i];
    (c.0, c.1, c.2)
}
const OKABE_BLUE: (u8, u8, u8) = okabe(0);
const OKABE_ORANGE: (u8, u8, u8) = okabe(1);
const OKABE_GREEN: (u8, u8, u8) = okabe(2);
const OKABE_VERMILLION: (u8, u8, u8) = okabe(3);
const OKABE_PURPLE: (u8, u8, u8) = okabe(4);
const OKABE_SKY: (u8, u8, u8) = okabe(5);
const OKABE_BLACK: (u8, u8, u8) = okabe(6);
const GREY: (u8, u8, u8) = (110, 110, 110);

// ANCHOR: builtins
// Adding an implementation: its adapter file beside this one, its native API for the shutdown
// probes in `shutdown/own_api.rs`, and one entry here. Every list the user sees comes from this
// table (harness/tests/builtins.rs checks `--help`, the errors and the README against it).
builtins! { $
    RustSyncChannel {
        name: "rust-sync-channel",
        adapter: RustSyncChannel,
        colour: (230, 120, 0),
        headline: [(Driven, OKABE_SKY)],
        swap_sibling: None,
        native: [],
        native_api: StdChannel,
    }
    Crossbeam {
        name: "crossbeam",
        adapter: Crossbeam,
        colour: (31, 100, 200),
        headline: [(Driven, OKABE_BLUE)],
        swap_sibling: None,
        native: [],
        native_api: CrossbeamChannel,
    }
    CPthread {
        name: "c-pthread",
        adapter: CPthread,
        colour: (40, 150, 60),
        headline: [(Driven, OKABE_GREEN)],
        swap_sibling: None,
        native: [NativeKind::CPthreads],
        native_api: C_PTHREAD,
    }
    /// Driven only: `c/bq_native.c` runs `c/bq.c`.
    CVyukov {
        name: "c-vyukov",
        adapter: CVyukov,
        colour: (0, 170, 170),
        headline: [(Driven, OKABE_PURPLE)],
        swap_sibling: None,
        native: [],
        native_api: C_VYUKOV,
    }
    Ocaml {
        name: "ocaml",
        adapter: Ocaml,
        colour: (200, 40, 120),
        headline: [(Driven, OKABE_VERMILLION), (NativeDomains, OKABE_BLACK)],
        swap_sibling: None,
        native: [NativeKind::OcamlDomains, NativeKind::OcamlSysthreads],
        native_api: OCAML,
    }
    RustPort {
        name: "rust-port",
        adapter: RustPort,
        colour: (120, 80, 40),
        headline: [(Driven, OKABE_ORANGE)],
        swap_sibling: None,
        native: [],
        native_api: Port,
    }
    Tokio {
        name: "tokio",
        adapter: Tokio,
        colour: (130, 60, 200),
        headline: [(Driven, GREY)],
        swap_sibling: None,
        native: [NativeKind::TokioTasks],
        native_api: TokioChannel,
    }
    // The swap buffers: lighter shades of their language's mutex-and-condition queue.
    CSwap {
        name: "c-swap",
        adapter: CSwap,
        colour: (120, 200, 110),
        headline: [],
        swap_sibling: Some(Builtin::CPthread),
        native: [],
        native_api: C_SWAP,
    }
    OcamlSwap {
        name: "ocaml-swap",
        adapter: OcamlSwap,
        colour: (235, 130, 180),
        headline: [],
        swap_sibling: Some(Builtin::Ocaml),
        native: [],
        native_api: OCAML_SWAP,
    }
    RustSwap {
        name: "rust-swap",
        adapter: RustSwap,
        colour: (190, 150, 100),
        headline: [],
        swap_sibling: Some(Builtin::RustPort),
        native: [],
        native_api: SwapPort,
    }
}
// ANCHOR_END: builtins

impl Builtin {
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.iter().copied().find(|b| b.name() == name)
    }

    /// Every built-in's name, comma-separated, for help texts and errors.
    pub fn names() -> String {
        Builtin::ALL.iter().map(|b| b.name()).collect::<Vec<_>>().join(", ")
    }
}

impl std::fmt::Display for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a native run runs its threads: each language's own (`native_runners.rs` picks and times the
/// runner). The built-ins' table names each implementation's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NativeKind {
    /// pthreads inside C
    CPthreads,
    /// one OCaml domain per producer and consumer: parallel
    OcamlDomains,
    /// OCaml systhreads in one domain: they take turns on the runtime lock
    OcamlSysthreads,
    /// tokio tasks on a multi-thread runtime, one worker thread per core
    TokioTasks,
}

impl NativeKind {
    /// The most producers and consumers together a run can start: OCaml 5 runs at most 128
    /// domains at once, and the harness's own OCaml thread holds one. tokio's are tasks, not threads.
    pub fn max_threads(self) -> u64 {
        match self {
            NativeKind::OcamlDomains => 126,
            NativeKind::TokioTasks => self::tokio::native::MAX_TASKS,
            NativeKind::CPthreads | NativeKind::OcamlSysthreads => u64::MAX,
        }
    }

    pub fn implementation(self) -> Builtin {
        match self {
            NativeKind::CPthreads => Builtin::CPthread,
            NativeKind::OcamlDomains | NativeKind::OcamlSysthreads => Builtin::Ocaml,
            NativeKind::TokioTasks => Builtin::Tokio,
        }
    }

    pub fn mode(self) -> crate::row::Mode {
        match self {
            NativeKind::CPthreads => crate::row::Mode::Native,
            NativeKind::OcamlDomains => crate::row::Mode::NativeDomains,
            NativeKind::OcamlSysthreads => crate::row::Mode::NativeSysthreads,
            NativeKind::TokioTasks => crate::row::Mode::NativeTasks,
        }
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
        Err(format!(
            "unknown implementation '{s}': expected one of {}, or a path to a shared library exporting c/bq.h (e.g. ./libmybq.so)",
            Builtin::names()
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
