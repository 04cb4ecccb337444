//! The `keyport` binary, run as its own process.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use app::store::testkit::master_key_file;

/// Runs the `keyport` binary as its own process on `db_url`, with `stdin` as its input, and the
/// test database's master key: on SQLite the default file beside it, on PostgreSQL named.
pub fn keyport(db_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyport"));
    command
        .env_remove("KEYPORT_MASTER_KEY")
        .env_remove("KEYPORT_MASTER_KEY_FILE");
    if db_url.starts_with("postgres") {
        command.env("KEYPORT_MASTER_KEY_FILE", master_key_file(db_url));
    }
    let mut child = command
        .args(args)
        .env("KEYPORT_DATABASE_URL", db_url)
        .env("KEYPORT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Asserts that a run succeeded, showing its standard error when it did not.
#[track_caller]
pub fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
