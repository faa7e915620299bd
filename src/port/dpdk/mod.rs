//! The DPDK implementation of the port interface: EAL start-up and lcore launching ([`Eal`]), an ethdev port
//! with its packet mempool and N queue pairs ([`DpdkPort`]), and the per-queue burst I/O ([`DpdkQueue`]).
//!
//! Ownership makes shutdown orderly: every queue and port keeps the EAL alive (a shared handle), and every queue
//! keeps its port alive, so the port stops and closes only after its last queue is gone, its mempool is freed
//! after that, and `rte_eal_cleanup` runs last.
//!
//! This module and `dpdk-sys` are the only places in lzr with `unsafe`; each block says why it holds.
//!
//! Found by trying (DPDK 22.11, see also dpdk-sys/README.md):
//! - EAL probes every PCI device it may drive unless told `--no-pci` (or given `-a`): tests and vdev-only runs
//!   pass `--no-pci` so EAL never touches the machine's own NIC.
//! - net_tap gives the kernel side of the tap the port's own MAC address: on a tap, the peer's MAC (the
//!   kernel's) equals the port's.
//! - af_packet offers no RSS; tap offers hash functions (0x3afbc) but its RSS set-up could not be configured or
//!   read back here (2 queues). Both run with [`crate::port::Steering::None`]: the engine steers in software.

mod eal;
mod ethdev;
mod queue;

pub use eal::{Eal, LcoreJob};
pub use ethdev::{Device, DpdkPort, PortConfig, PortInfo};
pub use queue::{DpdkQueue, DpdkRx, DpdkTx};

use std::ffi::CStr;

/// What can go wrong with EAL or a port.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error(
        "DPDK EAL was already started (or tried) in this process: EAL starts once per process"
    )]
    EalAlreadyInitialised,
    #[error("DPDK EAL argument contains a NUL byte: {0:?}")]
    BadEalArgument(String),
    #[error("DPDK EAL initialisation failed: {0}")]
    EalInit(String),
    #[error(
        "no DPDK ethdev port matches {0} (is the device bound to DPDK, or the vdev spelled right?)"
    )]
    NoSuchDevice(String),
    #[error("cannot probe DPDK device {device}: {message}")]
    Probe { device: String, message: String },
    #[error("{device} offers {max_rx} RX / {max_tx} TX queues; {requested} requested")]
    TooManyQueues {
        device: String,
        requested: u16,
        max_rx: u16,
        max_tx: u16,
    },
    #[error("invalid port setting: {0}")]
    InvalidConfig(String),
    #[error("{call} failed on port {port}: {message}")]
    Port {
        call: &'static str,
        port: u16,
        message: String,
    },
    #[error("cannot launch a job on lcore {lcore}: {message}")]
    Launch { lcore: u32, message: String },
    #[error("cannot register this thread with DPDK: {0}")]
    ThreadRegister(String),
}

/// DPDK's text for an errno value (positive; DPDK functions return it negated).
fn strerror(errno: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local NUL-terminated string for any value.
    let text = unsafe { CStr::from_ptr(dpdk_sys::rte_strerror(errno)) };
    format!("{} (errno {errno})", text.to_string_lossy())
}

/// The message for the current thread's rte_errno.
fn last_error() -> String {
    // SAFETY: reads the calling thread's rte_errno through the C getter.
    strerror(unsafe { dpdk_sys::lzr_rte_errno() })
}

/// Maps a DPDK return value (negative errno on failure) to a result.
fn check(call: &'static str, port: u16, ret: i32) -> Result<i32, PortError> {
    if ret < 0 {
        Err(PortError::Port {
            call,
            port,
            message: strerror(-ret),
        })
    } else {
        Ok(ret)
    }
}
