//! Command line: `lzr` (scan) and its subcommands. Filled in by the input/output/config work.
//! (Temporary in the dpdk branch: dispatches `selftest` only; the lead's cli.rs replaces this.)

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "lzr")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One TCP handshake through a DPDK port, checked end to end.
    Selftest(crate::commands::selftest::Args),
}

pub fn main() -> i32 {
    match Cli::parse().command {
        Command::Selftest(args) => crate::commands::selftest::run(args),
    }
}
