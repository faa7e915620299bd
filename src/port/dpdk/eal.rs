//! EAL start-up (once per process) and launching jobs on worker lcores.

use std::ffi::{c_int, c_void, CString};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dpdk_sys as sys;

use super::{last_error, strerror, PortError};

/// Set by the first `Eal::init` of the process: DPDK cannot initialise twice, even after a failure.
static EAL_STARTED: AtomicBool = AtomicBool::new(false);

/// Keeps the EAL alive; `rte_eal_cleanup` runs when the last holder (the [`Eal`], a port, a queue, a job) goes.
pub(super) struct EalGuard {
    _private: (),
}

impl Drop for EalGuard {
    fn drop(&mut self) {
        // SAFETY: every DPDK object lzr made holds this guard, so none is in use any more.
        let ret = unsafe { sys::rte_eal_cleanup() };
        if ret < 0 {
            log::warn!("rte_eal_cleanup: {}", strerror(-ret));
        }
    }
}

/// The running EAL. Lives on the thread that started it (the main lcore): launching and waiting for lcore jobs
/// must happen there, so this handle is neither `Send` nor `Sync`.
pub struct Eal {
    guard: Arc<EalGuard>,
    main_lcore: u32,
    workers: Vec<u32>,
    _main_thread_only: PhantomData<*const ()>,
}

impl Eal {
    /// Starts the EAL with `args` (as on a DPDK command line, without the program name), e.g.
    /// `["-l", "0-2", "--no-huge", "-m", "256", "--vdev", "net_tap0,iface=lzr0"]`. The calling thread becomes
    /// the main lcore. A second call in the same process fails with [`PortError::EalAlreadyInitialised`].
    pub fn init<S: AsRef<str>>(args: &[S]) -> Result<Eal, PortError> {
        let mut owned = Vec::with_capacity(args.len() + 1);
        for arg in std::iter::once("lzr").chain(args.iter().map(AsRef::as_ref)) {
            owned.push(CString::new(arg).map_err(|_| PortError::BadEalArgument(arg.to_string()))?);
        }
        if EAL_STARTED.swap(true, Ordering::SeqCst) {
            return Err(PortError::EalAlreadyInitialised);
        }
        // EAL may keep pointers into argv (and getopt reorders it): the strings live for the whole process.
        let argv: &'static mut [*mut std::ffi::c_char] =
            Vec::leak(owned.into_iter().map(CString::into_raw).collect::<Vec<_>>());
        let argc = c_int::try_from(argv.len())
            .map_err(|_| PortError::EalInit("too many arguments".into()))?;
        // SAFETY: argv holds argc valid NUL-terminated strings that are never freed.
        let ret = unsafe { sys::rte_eal_init(argc, argv.as_mut_ptr()) };
        if ret < 0 {
            return Err(PortError::EalInit(last_error()));
        }
        // SAFETY: plain queries, valid after a successful rte_eal_init.
        let main_lcore = unsafe { sys::rte_get_main_lcore() };
        let mut workers = Vec::new();
        let mut lcore = u32::MAX; // rte_get_next_lcore(-1, ...) yields the first lcore
        loop {
            // SAFETY: as above; the iteration ends at RTE_MAX_LCORE.
            lcore = unsafe { sys::rte_get_next_lcore(lcore, 1, 0) };
            if lcore >= sys::RTE_MAX_LCORE {
                break;
            }
            workers.push(lcore);
        }
        Ok(Eal {
            guard: Arc::new(EalGuard { _private: () }),
            main_lcore,
            workers,
            _main_thread_only: PhantomData,
        })
    }

    /// The lcore of the thread that started the EAL (free to run the management loop).
    pub fn main_lcore(&self) -> u32 {
        self.main_lcore
    }

    /// The worker lcores (every enabled lcore but the main one), in order.
    pub fn worker_lcores(&self) -> &[u32] {
        &self.workers
    }

    /// Runs `job` on worker lcore `lcore` (pinned to its CPU by EAL). The main lcore is free meanwhile (run the
    /// management loop there), then [`LcoreJob::wait`] returns the job's result. A job that panics returns -1.
    pub fn launch<F>(&self, lcore: u32, job: F) -> Result<LcoreJob, PortError>
    where
        F: FnOnce() -> i32 + Send + 'static,
    {
        if !self.workers.contains(&lcore) {
            return Err(PortError::Launch {
                lcore,
                message: "not a worker lcore of this EAL".into(),
            });
        }
        let arg = Box::into_raw(Box::new(job)).cast::<c_void>();
        // SAFETY: the trampoline takes ownership of `arg` (a Box<F>) exactly once, on the worker lcore.
        let ret = unsafe { sys::rte_eal_remote_launch(Some(run_job::<F>), arg, lcore) };
        if ret < 0 {
            // SAFETY: the launch failed, so the trampoline never ran: reclaim the job to drop it.
            drop(unsafe { Box::from_raw(arg.cast::<F>()) });
            return Err(PortError::Launch {
                lcore,
                message: strerror(-ret),
            });
        }
        Ok(LcoreJob {
            lcore,
            waited: false,
            _eal: self.guard.clone(),
            _main_thread_only: PhantomData,
        })
    }

    /// Launches one job per worker lcore, in lcore order. Fails (launching nothing) when there are more jobs than
    /// worker lcores.
    pub fn launch_workers<F>(&self, jobs: Vec<F>) -> Result<Vec<LcoreJob>, PortError>
    where
        F: FnOnce() -> i32 + Send + 'static,
    {
        if jobs.len() > self.workers.len() {
            return Err(PortError::Launch {
                lcore: self.main_lcore,
                message: format!(
                    "{} jobs for {} worker lcores (give EAL more with -l)",
                    jobs.len(),
                    self.workers.len()
                ),
            });
        }
        let mut launched = Vec::with_capacity(jobs.len());
        for (job, lcore) in jobs.into_iter().zip(self.workers.clone()) {
            launched.push(self.launch(lcore, job)?);
        }
        Ok(launched)
    }

    /// Registers the calling (non-EAL) thread with DPDK so it gets an lcore id and mempool caches; returns the id.
    pub fn register_thread() -> Result<u32, PortError> {
        // SAFETY: registers the calling thread; fails cleanly when no lcore id is left.
        if unsafe { sys::rte_thread_register() } < 0 {
            return Err(PortError::ThreadRegister(last_error()));
        }
        // SAFETY: reads the calling thread's lcore id.
        Ok(unsafe { sys::rte_lcore_id() })
    }

    /// The lcore id of the calling thread: Some on EAL lcores and registered threads, None elsewhere.
    pub fn current_lcore() -> Option<u32> {
        // SAFETY: reads a thread-local id.
        let id = unsafe { sys::rte_lcore_id() };
        (id != sys::LCORE_ID_ANY).then_some(id)
    }

    /// Cycles per second of the TSC clock.
    pub fn tsc_hz(&self) -> u64 {
        // SAFETY: a plain query after rte_eal_init.
        unsafe { sys::rte_get_tsc_hz() }
    }

    /// The guard ports take so EAL outlives them.
    pub(super) fn guard(&self) -> Arc<EalGuard> {
        self.guard.clone()
    }
}

/// Entry point DPDK calls on the worker lcore.
unsafe extern "C" fn run_job<F: FnOnce() -> i32 + Send>(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the Box<F> leaked by `Eal::launch`, handed to exactly one call of this function.
    let job = unsafe { Box::from_raw(arg.cast::<F>()) };
    // Unwinding must not cross into C.
    catch_unwind(AssertUnwindSafe(job)).unwrap_or(-1)
}

/// A job running on a worker lcore. Dropping it without [`wait`](Self::wait) still waits for the job.
pub struct LcoreJob {
    lcore: u32,
    waited: bool,
    _eal: Arc<EalGuard>,
    _main_thread_only: PhantomData<*const ()>,
}

impl LcoreJob {
    /// The lcore the job runs on.
    pub fn lcore(&self) -> u32 {
        self.lcore
    }

    /// Blocks until the job returns; gives its return value.
    pub fn wait(mut self) -> i32 {
        self.waited = true;
        // SAFETY: called on the main lcore (LcoreJob is not Send) for an lcore we launched on.
        unsafe { sys::rte_eal_wait_lcore(self.lcore) }
    }
}

impl Drop for LcoreJob {
    fn drop(&mut self) {
        if !self.waited {
            // SAFETY: as in `wait`; the job must end before EAL can be cleaned up.
            unsafe { sys::rte_eal_wait_lcore(self.lcore) };
        }
    }
}
