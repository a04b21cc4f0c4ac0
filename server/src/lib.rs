//! emedia-server as a library, so integration tests run the real server in-process.

pub mod auth;
pub mod core;
