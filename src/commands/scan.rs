//! The scan (the default command): placeholder until the lead's scan runner replaces it.

/// Runs a validated campaign; returns the process exit code.
pub fn run(campaign: crate::config::Campaign) -> i32 {
    let _ = campaign;
    eprintln!("lzr: scan runner not built yet");
    2
}
