//! SIGINT / SIGTERM: the first asks for an orderly stop (stop sending, expire flows, flush, summary), the second
//! for an immediate exit. A handler may only touch atomics, so it counts and the management loop reads the count.

use std::sync::atomic::{AtomicU32, Ordering};

static SIGNALS: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_signal(_signal: libc::c_int) {
    if SIGNALS.fetch_add(1, Ordering::SeqCst) >= 1 {
        // Second signal: the user wants out now (async-signal-safe exit).
        // SAFETY: _exit is async-signal-safe and takes no pointers.
        unsafe { libc::_exit(130) };
    }
}

/// Installs the handlers (once per process; later calls are harmless).
pub fn install() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installs a handler that only touches an atomic and calls _exit.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// True once a stop was asked for.
pub fn stop_requested() -> bool {
    SIGNALS.load(Ordering::SeqCst) > 0
}
