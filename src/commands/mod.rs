//! Subcommands of the `lzr` binary. Each module exposes `#[derive(clap::Args)] pub struct Args` and
//! `pub fn run(args: Args) -> i32` (the process exit code); `crate::cli` parses the command line and dispatches.

pub mod fingerprint;
pub mod scan;
pub mod selftest;
