//! What one running instance counts for its Prometheus `/metrics` endpoint: token requests by
//! grant and outcome with their latency, failed client authentications by reason, throttled
//! requests, and client-cache lookups. The services count where they decide an outcome; the
//! HTTP layer adds its own request counts and serves the text.
//!
//! Every label value is one of a fixed set named here, never a client id, tenant id or anything
//! a caller chose, so the number of series is bounded whatever the traffic. Each series is
//! created up front and kept in an array indexed by its labels: recording is an atomic increment
//! (and, for the latency, one histogram observation), with no lock on a map and no allocation,
//! since the token endpoint answers tens of thousands of requests a second. Created up front,
//! every series is also exported at 0 from the start, so a rate over it is defined at once.
//!
//! Each [`Metrics`] is its own: several applications in one process (the integration tests)
//! count apart.

use std::{sync::Arc, time::Instant};

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::{Registry, Unit},
};

use super::oauth::{Grant, IssuedToken, TokenError};
use crate::domain::oauth::ErrorCode;

/// Writes a label enum's fixed name.
macro_rules! label_value {
    ($t:ty) => {
        impl EncodeLabelValue for $t {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}

/// The grant a token request asked for, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenGrant {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
    /// `POST /v1/applications/token`, seed 003's JSON variant of client credentials.
    Json,
    /// A missing, unknown or unreadable `grant_type`.
    Other,
}

impl TokenGrant {
    pub const ALL: [TokenGrant; 5] = [
        TokenGrant::ClientCredentials,
        TokenGrant::AuthorizationCode,
        TokenGrant::RefreshToken,
        TokenGrant::Json,
        TokenGrant::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenGrant::ClientCredentials => "client_credentials",
            TokenGrant::AuthorizationCode => "authorization_code",
            TokenGrant::RefreshToken => "refresh_token",
            TokenGrant::Json => "json",
            TokenGrant::Other => "other",
        }
    }
}

impl From<Option<Grant>> for TokenGrant {
    fn from(grant: Option<Grant>) -> Self {
        match grant {
            Some(Grant::ClientCredentials) => TokenGrant::ClientCredentials,
            Some(Grant::AuthorizationCode) => TokenGrant::AuthorizationCode,
            Some(Grant::RefreshToken) => TokenGrant::RefreshToken,
            None => TokenGrant::Other,
        }
    }
}

label_value!(TokenGrant);

/// How a token request ended: issued, an RFC 6749 §5.2 error code, throttled, or our fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenOutcome {
    Issued,
    Refused(ErrorCode),
    Throttled,
    ServerError,
}

impl TokenOutcome {
    pub const ALL: [TokenOutcome; 10] = [
        TokenOutcome::Issued,
        TokenOutcome::Refused(ErrorCode::InvalidRequest),
        TokenOutcome::Refused(ErrorCode::InvalidClient),
        TokenOutcome::Refused(ErrorCode::InvalidGrant),
        TokenOutcome::Refused(ErrorCode::UnauthorizedClient),
        TokenOutcome::Refused(ErrorCode::UnsupportedGrantType),
        TokenOutcome::Refused(ErrorCode::InvalidScope),
        TokenOutcome::Refused(ErrorCode::InvalidTarget),
        TokenOutcome::Throttled,
        TokenOutcome::ServerError,
    ];

    pub fn of(result: &Result<IssuedToken, TokenError>) -> TokenOutcome {
        match result {
            Ok(_) => TokenOutcome::Issued,
            Err(TokenError::OAuth(e)) => TokenOutcome::Refused(e.code),
            Err(TokenError::Throttled { .. }) => TokenOutcome::Throttled,
            Err(TokenError::Internal(_)) => TokenOutcome::ServerError,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenOutcome::Issued => "issued",
            TokenOutcome::Refused(code) => code.as_str(),
            TokenOutcome::Throttled => "throttled",
            TokenOutcome::ServerError => "server_error",
        }
    }

    fn index(self) -> usize {
        match self {
            TokenOutcome::Issued => 0,
            TokenOutcome::Refused(code) => match code {
                ErrorCode::InvalidRequest => 1,
                ErrorCode::InvalidClient => 2,
                ErrorCode::InvalidGrant => 3,
                ErrorCode::UnauthorizedClient => 4,
                ErrorCode::UnsupportedGrantType => 5,
                ErrorCode::InvalidScope => 6,
                ErrorCode::InvalidTarget => 7,
            },
            TokenOutcome::Throttled => 8,
            TokenOutcome::ServerError => 9,
        }
    }
}

label_value!(TokenOutcome);

/// Why a client failed to authenticate (at the token, introspection or revocation endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthFailure {
    /// No credentials, or a confidential client without its secret.
    Missing,
    /// An unreadable `Authorization` header or a client id that could not be one.
    Malformed,
    /// A well-formed client id that names no client.
    UnknownClient,
    /// A known client with a wrong, expired or revoked secret (or a public client sending one).
    BadSecret,
    /// A client an admin switched off.
    Disabled,
    /// The right credentials at another tenant's issuer.
    WrongIssuer,
}

impl AuthFailure {
    pub const ALL: [AuthFailure; 6] = [
        AuthFailure::Missing,
        AuthFailure::Malformed,
        AuthFailure::UnknownClient,
        AuthFailure::BadSecret,
        AuthFailure::Disabled,
        AuthFailure::WrongIssuer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::UnknownClient => "unknown_client",
            AuthFailure::BadSecret => "bad_secret",
            AuthFailure::Disabled => "disabled",
            AuthFailure::WrongIssuer => "wrong_issuer",
        }
    }
}

label_value!(AuthFailure);

/// Which limit refused a request with 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Failed client authentications per address (token, introspection, revocation, JSON).
    ClientAuthentication,
    /// Failed portal sign-ins per address and per account and address.
    SignIn,
}

impl Limit {
    pub const ALL: [Limit; 2] = [Limit::ClientAuthentication, Limit::SignIn];

    pub fn as_str(self) -> &'static str {
        match self {
            Limit::ClientAuthentication => "client_authentication",
            Limit::SignIn => "sign_in",
        }
    }
}

label_value!(Limit);

/// Whether the client cache knew the client id asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheLookup {
    Hit,
    Miss,
}

impl CacheLookup {
    pub const ALL: [CacheLookup; 2] = [CacheLookup::Hit, CacheLookup::Miss];

    pub fn as_str(self) -> &'static str {
        match self {
            CacheLookup::Hit => "hit",
            CacheLookup::Miss => "miss",
        }
    }
}

label_value!(CacheLookup);

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TokenLabels {
    grant: TokenGrant,
    outcome: TokenOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct GrantLabels {
    grant: TokenGrant,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabels {
    reason: AuthFailure,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LimitLabels {
    limit: Limit,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    result: CacheLookup,
}

/// Token-endpoint latency buckets, in seconds: a client-credentials token takes tens of
/// microseconds to sign, a refresh a durable database write (a millisecond, far more when
/// SQLite's writers queue).
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

const GRANTS: usize = TokenGrant::ALL.len();
const OUTCOMES: usize = TokenOutcome::ALL.len();

type HistogramFamily = Family<GrantLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The families (which the registry encodes) and, indexed by label, the series in them.
#[derive(Debug)]
struct Series {
    token_family: Family<TokenLabels, Counter>,
    tokens: [[Counter; OUTCOMES]; GRANTS],
    latency_family: HistogramFamily,
    latency: [Histogram; GRANTS],
    auth_failure_family: Family<ReasonLabels, Counter>,
    auth_failures: [Counter; AuthFailure::ALL.len()],
    throttled_family: Family<LimitLabels, Counter>,
    throttled: [Counter; Limit::ALL.len()],
    cache_family: Family<ResultLabels, Counter>,
    cache: [Counter; CacheLookup::ALL.len()],
}

/// This instance's counts. Cheap to clone; clones count together.
#[derive(Debug, Clone)]
pub struct Metrics {
    series: Arc<Series>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let token_family = Family::<TokenLabels, Counter>::default();
        let tokens = TokenGrant::ALL.map(|grant| {
            TokenOutcome::ALL
                .map(|outcome| token_family.get_or_create_owned(&TokenLabels { grant, outcome }))
        });
        let latency_family: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let latency =
            TokenGrant::ALL.map(|grant| latency_family.get_or_create_owned(&GrantLabels { grant }));
        let auth_failure_family = Family::<ReasonLabels, Counter>::default();
        let auth_failures = AuthFailure::ALL
            .map(|reason| auth_failure_family.get_or_create_owned(&ReasonLabels { reason }));
        let throttled_family = Family::<LimitLabels, Counter>::default();
        let throttled =
            Limit::ALL.map(|limit| throttled_family.get_or_create_owned(&LimitLabels { limit }));
        let cache_family = Family::<ResultLabels, Counter>::default();
        let cache = CacheLookup::ALL
            .map(|result| cache_family.get_or_create_owned(&ResultLabels { result }));
        Metrics {
            series: Arc::new(Series {
                token_family,
                tokens,
                latency_family,
                latency,
                auth_failure_family,
                auth_failures,
                throttled_family,
                throttled,
                cache_family,
                cache,
            }),
        }
    }

    /// Adds these series to `registry` (whose prefix, `keyport`, starts every name).
    pub fn register(&self, registry: &mut Registry) {
        let s = &self.series;
        registry.register(
            "token_requests",
            "Token-endpoint requests by grant and outcome (issued, an RFC 6749 error code, \
             throttled, server_error)",
            s.token_family.clone(),
        );
        registry.register_with_unit(
            "token_request_duration",
            "Time the token endpoint took to decide, by grant (from the request read to the \
             answer made)",
            Unit::Seconds,
            s.latency_family.clone(),
        );
        registry.register(
            "client_authentication_failures",
            "Failed client authentications by reason; those refused by the throttle count as \
             throttled requests instead",
            s.auth_failure_family.clone(),
        );
        registry.register(
            "throttled_requests",
            "Requests refused with 429 by the limit that refused them",
            s.throttled_family.clone(),
        );
        registry.register(
            "client_cache_lookups",
            "Client lookups by the token service, answered from memory (hit) or the database \
             (miss)",
            s.cache_family.clone(),
        );
    }

    /// A token request answered with `outcome`, `started` when its body had been read.
    pub fn token_answered(&self, grant: TokenGrant, outcome: TokenOutcome, started: Instant) {
        let g = grant as usize;
        self.series.tokens[g][outcome.index()].inc();
        self.series.latency[g].observe(started.elapsed().as_secs_f64());
    }

    pub fn auth_failed(&self, reason: AuthFailure) {
        self.series.auth_failures[reason as usize].inc();
    }

    pub fn throttled(&self, limit: Limit) {
        self.series.throttled[limit as usize].inc();
    }

    pub fn client_cache(&self, lookup: CacheLookup) {
        self.series.cache[lookup as usize].inc();
    }

    /// Token requests counted with these labels so far.
    pub fn token_count(&self, grant: TokenGrant, outcome: TokenOutcome) -> u64 {
        self.series.tokens[grant as usize][outcome.index()].get()
    }

    pub fn auth_failure_count(&self, reason: AuthFailure) -> u64 {
        self.series.auth_failures[reason as usize].get()
    }

    pub fn throttled_count(&self, limit: Limit) -> u64 {
        self.series.throttled[limit as usize].get()
    }

    pub fn client_cache_count(&self, lookup: CacheLookup) -> u64 {
        self.series.cache[lookup as usize].get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::oauth::OAuthError;
    use prometheus_client::encoding::prometheus_text::encode;

    fn exported(metrics: &Metrics) -> String {
        let mut registry = Registry::with_prefix("keyport");
        metrics.register(&mut registry);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn every_label_index_is_that_of_its_place_in_all() {
        for (i, grant) in TokenGrant::ALL.iter().enumerate() {
            assert_eq!(*grant as usize, i);
        }
        for (i, outcome) in TokenOutcome::ALL.iter().enumerate() {
            assert_eq!(outcome.index(), i);
        }
        for (i, reason) in AuthFailure::ALL.iter().enumerate() {
            assert_eq!(*reason as usize, i);
        }
        for (i, limit) in Limit::ALL.iter().enumerate() {
            assert_eq!(*limit as usize, i);
        }
        for (i, lookup) in CacheLookup::ALL.iter().enumerate() {
            assert_eq!(*lookup as usize, i);
        }
    }

    #[test]
    fn each_count_lands_in_its_own_series_and_every_series_exists_from_the_start() {
        let metrics = Metrics::new();
        let fresh = exported(&metrics);
        assert!(fresh.contains(
            "keyport_token_requests_total{grant=\"refresh_token\",outcome=\"invalid_grant\"} 0\n"
        ));
        assert!(fresh.contains("keyport_throttled_requests_total{limit=\"sign_in\"} 0\n"));

        let started = Instant::now();
        let refused: Result<IssuedToken, TokenError> = Err(OAuthError::invalid_client(true).into());
        metrics.token_answered(TokenGrant::Json, TokenOutcome::of(&refused), started);
        metrics.token_answered(TokenGrant::Json, TokenOutcome::Throttled, started);
        metrics.token_answered(TokenGrant::Other, TokenOutcome::Issued, started);
        metrics.auth_failed(AuthFailure::BadSecret);
        metrics.throttled(Limit::ClientAuthentication);
        metrics.client_cache(CacheLookup::Miss);

        let text = exported(&metrics);
        for line in [
            "keyport_token_requests_total{grant=\"json\",outcome=\"invalid_client\"} 1\n",
            "keyport_token_requests_total{grant=\"json\",outcome=\"throttled\"} 1\n",
            "keyport_token_requests_total{grant=\"other\",outcome=\"issued\"} 1\n",
            "keyport_token_requests_total{grant=\"client_credentials\",outcome=\"issued\"} 0\n",
            "keyport_token_request_duration_seconds_count{grant=\"json\"} 2\n",
            "keyport_token_request_duration_seconds_count{grant=\"client_credentials\"} 0\n",
            "keyport_client_authentication_failures_total{reason=\"bad_secret\"} 1\n",
            "keyport_client_authentication_failures_total{reason=\"unknown_client\"} 0\n",
            "keyport_throttled_requests_total{limit=\"client_authentication\"} 1\n",
            "keyport_client_cache_lookups_total{result=\"miss\"} 1\n",
            "keyport_client_cache_lookups_total{result=\"hit\"} 0\n",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert_eq!(
            metrics.token_count(TokenGrant::Json, TokenOutcome::Throttled),
            1
        );
    }

    #[test]
    fn two_instances_count_apart() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.throttled(Limit::SignIn);
        assert_eq!(a.throttled_count(Limit::SignIn), 1);
        assert_eq!(b.throttled_count(Limit::SignIn), 0);
        assert_eq!(
            a.clone().throttled_count(Limit::SignIn),
            1,
            "clones count together"
        );
    }
}
