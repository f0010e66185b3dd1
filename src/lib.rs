//! Leash: a credential broker for AI agents. See `ARCHITECTURE.md` for the map.

pub mod cache;
pub mod cli;
pub mod clock;
pub mod domain;
pub mod http;
pub mod private_file;
pub mod secret_box;
pub mod store;
pub mod upstream;
pub mod usecase;
pub mod workers;

/// The memory allocator of every binary built on this crate (`leash`, its tests and
/// benchmarks): mimalloc. Under load each request allocates and frees many small
/// buffers, often on another thread than the one that allocated them, where glibc's
/// allocator spent 15% of a vending run's CPU consolidating and unlinking chunks;
/// in back-to-back runs of the connections bench on one machine, mimalloc took
/// introspection from about 47,000 to 53,000 requests/s and vending from about 22,500
/// to 28,800/s.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
