//! Rules for an app's settings and its secrets' lifetimes.

use super::FieldError;

pub const MIN_TOKEN_LIFETIME_SECS: i64 = 60;
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 3600;
pub const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 3600;
/// A secret's default life: a year, so forgotten secrets do not live forever.
pub const DEFAULT_SECRET_LIFETIME_SECS: i64 = 365 * 24 * 3600;
/// The longest an old secret may keep working after a refresh.
pub const MAX_GRACE_SECS: i64 = 7 * 24 * 3600;

/// An app's name: 1–100 characters, shown as text wherever it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(input: &str) -> Result<AppName, FieldError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "Give the app a name."));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new(
                "name",
                "App names are at most 100 characters.",
            ));
        }
        super::text::check_line("name", "App names", name)?;
        Ok(AppName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long access tokens issued to the app live, in seconds.
pub fn check_token_lifetime(secs: i64) -> Result<i64, FieldError> {
    if (MIN_TOKEN_LIFETIME_SECS..=MAX_TOKEN_LIFETIME_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(FieldError::new(
            "token_lifetime_secs",
            format!(
                "Token lifetime must be between {MIN_TOKEN_LIFETIME_SECS} and {MAX_TOKEN_LIFETIME_SECS} seconds."
            ),
        ))
    }
}

/// When a new secret expires: `None` is never; a time must lie in the future.
pub fn check_secret_expiry(expires_at: Option<i64>, now: i64) -> Result<Option<i64>, FieldError> {
    match expires_at {
        Some(at) if at <= now => Err(FieldError::new(
            "expires_at",
            "The expiry must be in the future (or never).",
        )),
        other => Ok(other),
    }
}

/// Whether a secret authenticates at `now`: not revoked, not past its grace period after a
/// refresh, not expired. The portal's status column and the token endpoint both ask this.
pub fn secret_works_at(
    revoked_at: Option<i64>,
    grace_until: Option<i64>,
    expires_at: Option<i64>,
    now: i64,
) -> bool {
    revoked_at.is_none()
        && grace_until.is_none_or(|until| until > now)
        && expires_at.is_none_or(|at| at > now)
}

/// Secrets expiring within this many seconds get a warning.
pub const EXPIRY_WARNING_SECS: i64 = 30 * 24 * 3600;

/// What a secret's row in the portal says, and whether it may be refreshed.
///
/// Decided where the time is read (the server), never again in the browser: a page rendered
/// on the server must hydrate to the same markup, and a browser's clock may differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SecretStatus {
    Active,
    /// Works, but expires within [`EXPIRY_WARNING_SECS`].
    ExpiresSoon,
    /// Refreshed away; works until the grace period ends.
    Grace {
        until: i64,
    },
    /// Refreshed away, grace period over.
    Replaced,
    Revoked,
    Expired,
}

impl SecretStatus {
    pub fn at(
        revoked_at: Option<i64>,
        grace_until: Option<i64>,
        expires_at: Option<i64>,
        now: i64,
    ) -> SecretStatus {
        match grace_until {
            _ if revoked_at.is_some() => SecretStatus::Revoked,
            Some(until) if until > now => SecretStatus::Grace { until },
            Some(_) => SecretStatus::Replaced,
            None => match expires_at {
                Some(at) if at <= now => SecretStatus::Expired,
                Some(at) if at - now < EXPIRY_WARNING_SECS => SecretStatus::ExpiresSoon,
                _ => SecretStatus::Active,
            },
        }
    }

    /// A secret that works and has not been refreshed already.
    pub fn can_refresh(self) -> bool {
        matches!(self, SecretStatus::Active | SecretStatus::ExpiresSoon)
    }
}

/// How long a refreshed-away secret keeps working: 0 (stops at once) up to 7 days.
pub fn check_grace(secs: i64) -> Result<i64, FieldError> {
    if (0..=MAX_GRACE_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(FieldError::new(
            "grace_seconds",
            "The grace period must be between 0 seconds and 7 days.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_status_follows_the_clock_it_is_given() {
        let now = 1_000_000;
        let status = |revoked, grace, expires| SecretStatus::at(revoked, grace, expires, now);
        assert_eq!(status(None, None, None), SecretStatus::Active);
        assert_eq!(
            status(None, None, Some(now + EXPIRY_WARNING_SECS)),
            SecretStatus::Active
        );
        assert_eq!(
            status(None, None, Some(now + EXPIRY_WARNING_SECS - 1)),
            SecretStatus::ExpiresSoon
        );
        assert_eq!(status(None, None, Some(now)), SecretStatus::Expired);
        assert_eq!(
            status(None, Some(now + 1), None),
            SecretStatus::Grace { until: now + 1 }
        );
        assert_eq!(status(None, Some(now), None), SecretStatus::Replaced);
        assert_eq!(
            status(Some(now - 5), Some(now + 60), None),
            SecretStatus::Revoked
        );
        for (s, refreshable) in [
            (SecretStatus::Active, true),
            (SecretStatus::ExpiresSoon, true),
            (SecretStatus::Grace { until: now + 1 }, false),
            (SecretStatus::Replaced, false),
            (SecretStatus::Revoked, false),
            (SecretStatus::Expired, false),
        ] {
            assert_eq!(s.can_refresh(), refreshable, "{s:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(AppName::parse("  Billing  ").unwrap().as_str(), "Billing");
        assert_eq!(
            AppName::parse("<img src=x onerror=alert(1)>")
                .unwrap()
                .as_str(),
            "<img src=x onerror=alert(1)>",
            "kept as typed: rendering escapes it"
        );
        assert!(AppName::parse("").is_err());
        assert!(AppName::parse(&"x".repeat(101)).is_err());
        assert!(AppName::parse(&"ü".repeat(100)).is_ok());
    }

    #[test]
    fn lifetimes() {
        assert!(check_token_lifetime(59).is_err());
        assert_eq!(check_token_lifetime(60), Ok(60));
        assert_eq!(check_token_lifetime(3600), Ok(3600));
        assert!(check_token_lifetime(3601).is_err());
    }

    #[test]
    fn expiry_and_grace() {
        assert_eq!(check_secret_expiry(None, 100), Ok(None));
        assert_eq!(check_secret_expiry(Some(101), 100), Ok(Some(101)));
        assert!(check_secret_expiry(Some(100), 100).is_err());
        assert!(check_secret_expiry(Some(5), 100).is_err());
        assert_eq!(check_grace(0), Ok(0));
        assert_eq!(check_grace(MAX_GRACE_SECS), Ok(MAX_GRACE_SECS));
        assert!(check_grace(MAX_GRACE_SECS + 1).is_err());
        assert!(check_grace(-1).is_err());
    }
}

/// `YYYY-MM-DD` as the Unix time of the end of that day (UTC), for "expires on" dates.
pub fn parse_date_end_of_day(input: &str) -> Result<i64, FieldError> {
    let bad = || FieldError::new("expires_at", "Enter a date as YYYY-MM-DD.");
    let mut parts = input.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (y, m, d): (i64, i64, i64) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(bad());
    }
    // Days since the epoch (Howard Hinnant's days_from_civil).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + 86_399)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn dates_end_at_the_last_second_of_the_day_utc() {
        assert_eq!(parse_date_end_of_day("1970-01-01"), Ok(86_399));
        assert_eq!(
            parse_date_end_of_day("2027-03-01"),
            Ok(1_803_859_200 + 86_399)
        );
        assert!(parse_date_end_of_day("2027-02-29").is_err());
        assert!(parse_date_end_of_day("2028-02-29").is_ok());
        assert!(parse_date_end_of_day("2027-13-01").is_err());
        assert!(parse_date_end_of_day("tomorrow").is_err());
        assert!(parse_date_end_of_day("").is_err());
    }
}
