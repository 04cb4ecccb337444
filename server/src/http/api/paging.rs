//! The wire side of paged lists: the query that asks for a page, and how a page the caller
//! cannot have is refused. What a page is, and its cursor, is `app::domain::paging`.

use serde::Deserialize;
use utoipa::IntoParams;

use app::domain::paging::PageError;

use crate::http::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl From<PageError> for ApiError {
    fn from(error: PageError) -> Self {
        match error {
            PageError::Limit => ApiError::Unprocessable {
                field: Some("limit".into()),
                message: error.to_string(),
            },
            // Not a rule broken but a token altered or made up: malformed, like bad JSON.
            PageError::Cursor => ApiError::BadRequest(error.to_string()),
        }
    }
}
