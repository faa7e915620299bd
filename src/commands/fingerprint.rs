//! `lzr fingerprint`: filled in by its owner.

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> i32 {
    eprintln!("lzr fingerprint: not built yet");
    2
}
