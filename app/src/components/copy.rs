use leptos::prelude::*;

/// A button that copies `value` to the clipboard and says so.
#[component]
pub fn CopyButton(value: String, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let hydrated = super::use_hydrated();
    let on_click = move |_| {
        #[cfg(not(feature = "ssr"))]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&value);
            copied.set(true);
        }
        #[cfg(feature = "ssr")]
        let _ = &value;
    };
    view! {
        <button type="button" class="button secondary copy" on:click=on_click aria-label=label disabled=move || !hydrated.get()>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}
