//! The scan (the default command): runs a validated campaign on the appliance.

/// Runs a validated campaign; returns the process exit code.
pub fn run(campaign: crate::config::Campaign) -> i32 {
    crate::appliance::run(campaign)
}
