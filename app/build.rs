// `sqlx::migrate!` embeds the migrations at compile time; without this, a new migration file
// is not noticed by an incremental build and the binary silently lacks it.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
