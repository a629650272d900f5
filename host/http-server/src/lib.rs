//! The HTTP listener that the public trigger and the admin API both serve on, so neither
//! depends on the other: hyper's accept loop with bounded connections, timeouts and graceful
//! shutdown, and the responses the host writes itself.

pub mod response;
pub mod server;
pub mod upgrade;

pub use response::Body;
pub use server::{ConnectionLimits, Peer, serve};
pub use upgrade::{UpgradeFuture, Upgrades};
