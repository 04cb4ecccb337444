//! Where the portal may send someone back to after signing in: a path on this server, never
//! another site. Browsers read `//evil.example` and `/\evil.example` as other hosts and drop
//! tabs and newlines before they do, so any of those is refused, not repaired.

/// `candidate` when it is a path on this origin, else `None`.
pub fn safe_return_path(candidate: &str) -> Option<&str> {
    let mut bytes = candidate.bytes();
    let same_origin = bytes.next() == Some(b'/')
        && !matches!(bytes.next(), Some(b'/' | b'\\'))
        && !candidate
            .bytes()
            .any(|b| b == b'\\' || b.is_ascii_control() || b == b' ')
        && candidate.len() <= 4096;
    same_origin.then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_this_origin_are_kept() {
        for ok in [
            "/",
            "/apps",
            "/oauth/authorize?client_id=kpc_x&state=a%2Fb",
            "/t/abc/oauth/authorize?x=1",
        ] {
            assert_eq!(safe_return_path(ok), Some(ok), "{ok}");
        }
    }

    #[test]
    fn anything_a_browser_could_read_as_another_site_is_refused() {
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "javascript:alert(1)",
            "apps",
            " /apps",
            "/apps\\..\\x",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
        assert_eq!(safe_return_path(&format!("/{}", "a".repeat(5000))), None);
    }
}
