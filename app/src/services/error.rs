use crate::{
    domain::{FieldError, sealing::SealError},
    store::StoreError,
};

/// Why a use case did not happen. Each boundary (server functions, REST, CLI) maps it to its
/// own shape; internal causes are logged there and never shown.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(FieldError),
    #[error("{0}")]
    Conflict(FieldError),
    #[error("Email or password is incorrect.")]
    InvalidCredentials,
    #[error("Too many failed attempts. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    Forbidden(String),
    /// `by` may not set this input (a developer giving an app roles); shown beside it.
    #[error("{0}")]
    ForbiddenField(FieldError),
    #[error("{0}")]
    NotFound(String),
    /// A rule about the current state refused the change (the last admin, …).
    #[error("{0}")]
    Rule(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A sealed key did not open (another master key, a damaged value): an operator's
    /// problem, said to the operator in full and to anyone else not at all.
    #[error("{0}")]
    Sealing(#[from] SealError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<FieldError> for ServiceError {
    fn from(error: FieldError) -> Self {
        ServiceError::Invalid(error)
    }
}
