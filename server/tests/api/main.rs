//! One integration-test binary: every module starts the real application on 127.0.0.1:0.

mod helpers;

mod health;
mod portal;
