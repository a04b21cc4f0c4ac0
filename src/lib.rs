//! emedia: the conferencing SDK behind `emedia.mgr`.
//!
//! `core` is the conference logic as a sans-IO state machine (native, unit-tested);
//! `web` (wasm32 only) is the thin layer that drives it with the browser's WebSocket
//! and timers and exposes it to JavaScript.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::Manager;

// The SDK runs on one thread; talc's wasm allocator is a few KB smaller than dlmalloc.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
