//! Where targets come from: lines on stdin (ZMap JSON, lists, ZMap dry-run text), read on their own thread so
//! the management loop never blocks on input, or the built-in generator paced at the campaign's rate.
//! Either way targets are handed out one at a time as they become available: nothing waits for EOF.

use std::io::BufRead;
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};

use crate::input::generator::Generator;
use crate::input::pacer::Pacer;
use crate::input::{reader, InputError, InputFormat, InputItem};

/// One step of an input source.
pub enum Next {
    Item(InputItem),
    /// A line that could not be used (counted and reported, never fatal).
    Error(InputError),
    /// Nothing available right now.
    Wait,
    /// No more targets, ever.
    End,
}

pub enum Inputs {
    Lines(Receiver<(u64, Result<InputItem, InputError>)>),
    Generated { generator: Generator, pacer: Pacer },
}

/// Lines queued between the reader thread and the management loop (bounds memory when workers are slower).
const LINE_QUEUE: usize = 65_536;

impl Inputs {
    /// Reads `input` on a thread of its own.
    pub fn lines<R: BufRead + Send + 'static>(input: R, format: InputFormat) -> Inputs {
        let (tx, rx) = sync_channel(LINE_QUEUE);
        std::thread::Builder::new()
            .name("lzr-input".into())
            .spawn(move || {
                for item in reader(input, format) {
                    if tx.send(item).is_err() {
                        break; // the run is over (stopped by a signal)
                    }
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| log::error!("cannot start the input thread: {e}"));
        Inputs::Lines(rx)
    }

    pub fn generated(generator: Generator, rate: u64, burst: u32) -> Inputs {
        Inputs::Generated { generator, pacer: Pacer::new(rate, burst) }
    }

    /// How many targets may start now (the pacer's grant for the generator; lines are not paced: ZMap paces).
    pub fn grant(&mut self, now_ns: u64, want: u32) -> u32 {
        match self {
            Inputs::Lines(_) => want,
            Inputs::Generated { pacer, .. } => pacer.grant(now_ns, want),
        }
    }

    pub fn poll(&mut self) -> Next {
        match self {
            Inputs::Lines(rx) => match rx.try_recv() {
                Ok((_, Ok(item))) => Next::Item(item),
                Ok((_, Err(e))) => Next::Error(e),
                Err(TryRecvError::Empty) => Next::Wait,
                Err(TryRecvError::Disconnected) => Next::End,
            },
            Inputs::Generated { generator, .. } => match generator.next() {
                Some(t) => Next::Item(InputItem::Target(t)),
                None => Next::End,
            },
        }
    }
}
