//! The simulator: a population of Internet hosts on one port or several, played on the wire by a sans-IO
//! responder, for benchmarks, end-to-end tests and side-by-side runs with other scanners (docs/simulator.md).
//!
//! - [`profile`]: a port's host mix (the rows of the paper's Table 4 as shares), loaded from TOML and validated;
//! - [`catalogue`]: the protocols a host can speak and what each answers to each probe (real servers' bytes from
//!   tests/corpus, answer shares from the paper's Figure 10), and the classifier that names a received probe;
//! - [`population`]: which host is at an address and port, computed on demand from a keyed hash (nothing is
//!   stored per host), and the ground truth [`Host::expect`] a scan of it should produce;
//! - [`responder`]: frames in, frames out: SYN-ACKs, zero windows, resets, ACKs, banners and answers, ARP.
//!
//! ```ignore
//! let population = Arc::new(Population::new("198.18.128.0/17".parse()?, vec![Profile::load(path)?], seed)?);
//! let mut responder = Responder::new(population.clone(), mac);
//! rx.recv_burst(|frame| responder.handle(frame, now_ns, &mut TxSink(tx)));
//! responder.poll(now_ns, &mut TxSink(tx)); // delayed answers
//! let truth = population.truth(addr, port).expect(&plan, &matcher, haf);
//! ```

pub mod catalogue;
pub mod population;
pub mod profile;
pub mod responder;

pub use population::{Behaviour, Expected, Host, Population, Space};
pub use profile::{load_dir, Profile, ProfileError};
pub use responder::{FrameSink, Responder, ResponderCounters, TxSink};
