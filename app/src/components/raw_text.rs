//! Stored text inside the elements whose children leptos writes unescaped on the server:
//! `<title>` and `<textarea>` (tachys renders their children as raw text, and leptos_meta
//! writes the title as it is). An app named `</title><meta http-equiv=refresh …>` would
//! otherwise end the element and add markup of its own. Browsers decode character references
//! inside both, so the escaped text reads exactly as stored.

/// `text`, safe as the child of a raw-text element in server-rendered HTML. In the browser the
/// same value is set as a DOM string, which is never parsed as markup, so it stays as it is.
pub fn raw_text(text: String) -> String {
    #[cfg(feature = "ssr")]
    {
        escape(&text)
    }
    #[cfg(not(feature = "ssr"))]
    {
        text
    }
}

#[cfg(any(feature = "ssr", test))]
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_tags_and_references_cannot_survive_escaping() {
        let hostile =
            "</title><meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">";
        let safe = escape(hostile);
        assert!(!safe.contains('<') && !safe.contains('>'), "{safe}");
        assert_eq!(escape("Tom & Jerry's &amp;"), "Tom &amp; Jerry's &amp;amp;");
        assert_eq!(escape("plain"), "plain");
    }
}
