//! `GET /metrics` in the Prometheus text format, and the HTTP request counts only this layer
//! sees. The services count what they decide ([`app::services::metrics`]); the registry that
//! exports both belongs to one application, so applications sharing a process count apart.

use std::{
    hash::{Hash, Hasher},
    sync::Arc,
};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder, prometheus_text},
    metrics::{counter::Counter, family::Family, info::Info},
    registry::Registry,
};

use app::services::oauth::OAuthService;

/// The `route` of requests no route matched: static files and 404s, whatever their path.
const UNMATCHED: &str = "unmatched";

/// Everything `/metrics` exports for the application `oauth` belongs to, and the counts the
/// request-counting middleware keeps in it.
pub fn registry(oauth: &OAuthService) -> (Arc<Registry>, RequestCounts) {
    let mut registry = Registry::with_prefix("keyport");
    oauth.register_metrics(&mut registry);
    let requests = RequestCounts::default();
    registry.register(
        "http_requests",
        "HTTP requests by route template (unmatched: static files and 404s), method and status \
         class",
        requests.family.clone(),
    );
    registry.register(
        "build",
        "The running Keyport's version",
        Info::new([("version", env!("CARGO_PKG_VERSION"))]),
    );
    (Arc::new(registry), requests)
}

/// The router serving `/metrics` from `registry`: merged into the main one, or alone on
/// `KEYPORT_METRICS_ADDR`.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(registry)
}

async fn scrape(State(registry): State<Arc<Registry>>) -> Response {
    let mut text = String::with_capacity(16 * 1024);
    if let Err(error) = prometheus_text::encode(&mut text, &registry) {
        tracing::error!(%error, "could not encode the metrics");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

/// HTTP requests by route template, method and status class.
#[derive(Clone, Debug, Default)]
pub struct RequestCounts {
    family: Family<RequestLabels, Counter>,
}

/// Counts each request under the route that matched it (its template, such as
/// `/t/{tenant}/oauth/token`, never the path with the caller's values in it). Runs inside the
/// router, after routing, where the matched route is known.
pub async fn count_requests(
    State(counts): State<RequestCounts>,
    req: Request,
    next: Next,
) -> Response {
    let route = Route(req.extensions().get::<MatchedPath>().cloned());
    let method = method_label(req.method());
    let response = next.run(req).await;
    let labels = RequestLabels {
        route,
        method,
        status: status_class(response.status()),
    };
    // A read lock and a lookup once the series exists: it is created on a route's first use.
    counts.family.get_or_create(&labels).inc();
    response
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: Route,
    method: &'static str,
    status: &'static str,
}

/// The matched route's template; cloning it copies a reference, not the string.
#[derive(Clone, Debug)]
struct Route(Option<MatchedPath>);

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or(UNMATCHED, MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl Hash for Route {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

/// The standard methods by name; anything a client made up is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
            "other"
        );
        assert_eq!(status_class(StatusCode::SWITCHING_PROTOCOLS), "1xx");
        assert_eq!(status_class(StatusCode::NO_CONTENT), "2xx");
        assert_eq!(status_class(StatusCode::SEE_OTHER), "3xx");
        assert_eq!(status_class(StatusCode::TOO_MANY_REQUESTS), "4xx");
        assert_eq!(status_class(StatusCode::SERVICE_UNAVAILABLE), "5xx");
        assert_eq!(Route(None).as_str(), UNMATCHED);
    }
}
