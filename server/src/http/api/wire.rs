//! How the management API writes what every resource shares: times as RFC 3339, and fields
//! where `null` means something other than leaving the field out.

use serde::{Deserialize, Deserializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::http::error::ApiError;

pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn parse_rfc3339(field: &str, value: &str) -> Result<i64, ApiError> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| ApiError::Unprocessable {
            field: Some(field.into()),
            message: format!("{field} must be an RFC 3339 time such as 2027-01-31T00:00:00Z."),
        })
}

/// Absent → `None`; `null` → `Some(None)`; a value → `Some(Some(v))`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
