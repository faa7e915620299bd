//! Filled in by the DPDK work.
