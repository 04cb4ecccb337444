//! How times and states read in the portal. There is deliberately no "now" here: markup that
//! depends on the time is decided on the server, whose answer the browser hydrates as it is.

/// Unix seconds as `YYYY-MM-DD` (UTC).
pub fn date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`, for moments within a day (a key's rotation).
pub fn date_time(unix: i64) -> String {
    let seconds = unix.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02} UTC",
        date(unix),
        seconds / 3600,
        seconds % 3600 / 60
    )
}

pub fn optional_date(unix: Option<i64>, none: &str) -> String {
    unix.map(date).unwrap_or_else(|| none.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(1_803_859_200 + 86_399), "2027-03-01");
        assert_eq!(super::date(951_782_400), "2000-02-29");
        assert_eq!(
            super::date_time(951_782_400 + 13 * 3600 + 5 * 60 + 59),
            "2000-02-29 13:05 UTC"
        );
    }
}
