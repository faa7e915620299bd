//! Zero-copy views over frame bytes and builders for the frames lzr sends.

mod tcp_flags;
pub use tcp_flags::TcpFlags;
