use leptos::prelude::*;

use crate::{model::status::StatusReport, server_fns::status::GetStatus};

/// Asks the server how it and its database are doing. The button only works once the page has
/// hydrated, so it stays disabled until then rather than silently doing nothing.
#[component]
pub fn StatusCheck() -> impl IntoView {
    let check = ServerAction::<GetStatus>::new();
    let hydrated = super::use_hydrated();

    let result = move || {
        check.value().get().map(|outcome| match outcome {
            Ok(report) => view! { <StatusLine report/> }.into_any(),
            Err(error) => {
                view! { <p class="status status-bad" role="alert">{error.to_string()}</p> }
                    .into_any()
            }
        })
    };

    view! {
        <section class="card status-check" aria-labelledby="status-heading">
            <h2 id="status-heading">"System status"</h2>
            <button
                type="button"
                class="button"
                disabled=move || !hydrated.get() || check.pending().get()
                on:click=move |_| {
                    check.dispatch(GetStatus {});
                }
            >
                {move || if check.pending().get() { "Checking…" } else { "Check server status" }}
            </button>
            <div aria-live="polite" data-testid="status-result">{result}</div>
        </section>
    }
}

#[component]
fn StatusLine(report: StatusReport) -> impl IntoView {
    let (class, text) = if report.database_ready {
        (
            "status status-ok",
            format!("Database ({}) ready", report.database),
        )
    } else {
        (
            "status status-bad",
            format!("Database ({}) not reachable", report.database),
        )
    };
    view! {
        <p class=class>
            {text}
            <span class="muted">
                {format!(" · {:.1} ms · version {}", report.database_latency_ms, report.version)}
            </span>
        </p>
    }
}
