//! One integration-test binary: every module starts the real application on 127.0.0.1:0.

mod helpers;

mod abuse;
mod accounts;
mod assets;
mod backup;
mod cli;
mod code_flow;
mod grant_types;
mod health;
mod issuers;
mod key_rotation;
mod management;
mod metrics;
mod oauth;
mod portal;
mod roles;
mod sealing;
