//! libFuzzer target over the frame parser and every wire view's accessors.
//!
//! Run with `cargo +nightly fuzz run frame_parser` from `fuzz/`. On stable, the same code path
//! (`lzr::wire::fuzzing::exercise`) runs in `cargo test` over every truncation and seeded mutations of real frames
//! (`src/wire/tests.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    std::hint::black_box(lzr::wire::fuzzing::exercise(data));
});
