//! bitsdoctor: offline diagnosis of Windows BITS / WSUS download failures.
//!
//! The pipeline (see DESIGN.md): ingest -> parse -> correlate -> diagnose -> report. Each stage is
//! a plain function over owned data; only `app` wires them together and only the binary's `cli`
//! knows clap. Nothing in the library prints.

#![forbid(unsafe_code)]

pub mod app;
pub mod capped;
pub mod clock;
pub mod collect;
pub mod correlate;
pub mod diagnose;
pub mod hostfilter;
pub mod ingest;
pub mod isolate;
pub mod knowledge;
pub mod link;
pub mod model;
pub mod parse;
pub mod probe;
pub mod report;
pub mod spill;
pub mod summary;
pub mod term;
pub mod vecset;
pub mod window;
