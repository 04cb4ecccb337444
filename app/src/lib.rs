//! The Keyport application: the portal (Leptos components and pages, compiled for both the
//! server and the browser), its server functions, and — behind the `ssr` feature — the store and
//! the services that both the portal and the `server` crate's HTTP endpoints call.

#![recursion_limit = "256"]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "ssr")]
pub mod auth;
pub mod components;
#[cfg(feature = "ssr")]
pub mod csp;
pub mod domain;
pub mod error;
#[cfg(feature = "ssr")]
pub mod handover;
pub mod model;
pub mod pages;
pub mod portal;
pub mod server_fns;

#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;

pub use pages::{App, shell};
