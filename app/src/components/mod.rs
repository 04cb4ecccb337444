//! Pieces shared by several screens.

pub mod copy;
pub mod format;
pub mod forms;
pub mod guard;
pub mod layout;
pub mod raw_text;
pub mod status_check;

use leptos::prelude::*;

/// `false` in the server-rendered HTML, `true` once this component has hydrated. Buttons that
/// only work with the WASM (opening a dialog, copying) stay disabled until then, rather than
/// silently doing nothing when clicked early.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}
