//! Command line: `lzr` (scan) and its subcommands. Filled in by the input/output/config work.

pub fn main() -> i32 {
    eprintln!("lzr: command line not built yet");
    2
}
