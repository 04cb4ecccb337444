use leptos::prelude::*;

use crate::error::AppError;

/// The error of the last submission, if it failed.
pub fn last_error<T>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
) -> Signal<Option<AppError>> {
    Signal::derive(move || value.get().and_then(|outcome| outcome.err()))
}

/// Whether the last submission succeeded.
pub fn last_saved<T>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
) -> Signal<bool> {
    Signal::derive(move || value.get().is_some_and(|outcome| outcome.is_ok()))
}

/// The confirmation after a successful save, announced to screen readers.
#[component]
pub fn SavedMessage(saved: Signal<bool>) -> impl IntoView {
    move || {
        saved
            .get()
            .then(|| view! { <p class="alert alert-ok" role="status">"Saved."</p> })
    }
}

/// The message for one field, shown beside it.
#[component]
pub fn FieldMessage(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().filter(|e| e.field() == Some(field)).map(|e| {
            view! { <p class="field-error" id=format!("{field}-error") role="alert">{e.to_string()}</p> }
        })
    }
}

/// Errors that belong to no single field, shown above the form.
#[component]
pub fn FormMessage(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().filter(|e| e.field().is_none()).map(|e| {
            view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }
        })
    }
}

/// Whether `field` is the one the last error is about, for `aria-invalid`.
pub fn invalid(error: Signal<Option<AppError>>, field: &'static str) -> impl Fn() -> &'static str {
    move || {
        if error.get().is_some_and(|e| e.field() == Some(field)) {
            "true"
        } else {
            "false"
        }
    }
}
