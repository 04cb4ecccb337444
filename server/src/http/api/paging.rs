//! Paged lists: the query that asks for a page, and the opaque cursor to the next one.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn page_limit(limit: Option<i64>) -> Result<usize, ApiError> {
    match limit.unwrap_or(50) {
        n @ 1..=100 => Ok(n as usize),
        _ => Err(ApiError::Unprocessable {
            field: Some("limit".into()),
            message: "limit must be between 1 and 100.".into(),
        }),
    }
}

/// Cursors are opaque: the position after the last item of the previous page.
pub fn decode_cursor(cursor: Option<&str>) -> Result<usize, ApiError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::BadRequest("The cursor is not one this API gave out.".into()))
}

pub fn page<T>(items: Vec<T>, start: usize, limit: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    let next = (end < total).then(|| URL_SAFE_NO_PAD.encode(format!("o:{end}")));
    (page, next)
}
