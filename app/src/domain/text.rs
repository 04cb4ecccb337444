//! Text a person reads must look like what was stored: a name with a right-to-left override
//! (`Pay\u{202e}lapyap` shows as "Paypayapal") or a zero-width space can pass for another,
//! and a newline in a one-line name breaks the lines it is shown on (SPEC §5).

use super::FieldError;

/// The Unicode format characters that reorder or hide text: bidi embeddings, overrides and
/// isolates, directional marks, zero-width characters and the byte-order mark.
fn reorders_or_hides(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'
            | '\u{FEFF}'
    )
}

/// Whether `text` may stand on one line: no control characters, nothing that reorders or
/// hides text. `what` starts the message ("App names"), `field` names the input at fault.
pub fn check_line(field: &'static str, what: &str, text: &str) -> Result<(), FieldError> {
    check(field, what, text, |c| c.is_control())
}

/// As [`check_line`], but line breaks and tabs are allowed: for descriptions typed in a
/// multi-line box.
pub fn check_paragraphs(field: &'static str, what: &str, text: &str) -> Result<(), FieldError> {
    check(field, what, text, |c| {
        c.is_control() && !matches!(c, '\n' | '\r' | '\t')
    })
}

fn check(
    field: &'static str,
    what: &str,
    text: &str,
    refused_control: impl Fn(char) -> bool,
) -> Result<(), FieldError> {
    if let Some(c) = text.chars().find(|&c| refused_control(c)) {
        return Err(FieldError::new(
            field,
            format!(
                "{what} cannot contain control characters (found U+{:04X}).",
                c as u32
            ),
        ));
    }
    if let Some(c) = text.chars().find(|&c| reorders_or_hides(c)) {
        return Err(FieldError::new(
            field,
            format!(
                "{what} cannot contain invisible characters that reorder or hide text (found U+{:04X}).",
                c as u32
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_format_character_is_refused_with_its_code_point() {
        let listed = [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}',
            '\u{200D}', '\u{2060}', '\u{FEFF}',
        ];
        for c in listed {
            let e = check_line("name", "Names", &format!("Pay{c}lapyap")).unwrap_err();
            assert_eq!(e.field, "name");
            assert!(
                e.message.contains(&format!("U+{:04X}", c as u32)),
                "{}",
                e.message
            );
            assert!(check_paragraphs("description", "Descriptions", &c.to_string()).is_err());
        }
    }

    #[test]
    fn one_line_text_refuses_line_breaks_and_paragraphs_keep_them() {
        assert!(check_line("name", "Names", "Acme\nEvil").is_err());
        assert!(check_line("name", "Names", "Acme\u{7}").is_err());
        assert!(check_paragraphs("description", "Descriptions", "One.\r\nTwo.\tThree").is_ok());
        assert!(check_paragraphs("description", "Descriptions", "bell\u{7}").is_err());
    }

    #[test]
    fn ordinary_text_in_any_script_passes_markup_included() {
        // Markup is not refused: it is escaped wherever it is shown.
        for ok in [
            "Acme <Billing> & Co",
            "Café Müller",
            "שלום עולם",
            "東京",
            "\"quoted\"",
        ] {
            assert!(check_line("name", "Names", ok).is_ok(), "{ok}");
        }
    }
}
