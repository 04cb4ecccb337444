//! Lists served a page at a time (the REST API's apps and audit events). A cursor is the
//! offset after the previous page's last item, encoded so clients treat it as opaque: they
//! can only pass back what they were given, and the encoding can change without breaking them.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The page size when the caller names none.
pub const DEFAULT_PAGE_LIMIT: i64 = 50;
/// The largest page served, so one request cannot ask for the whole audit log.
pub const MAX_PAGE_LIMIT: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("limit must be between 1 and 100.")]
    Limit,
    #[error("The cursor is not one this API gave out.")]
    Cursor,
}

/// Which page to serve: where it starts in the whole list, and at most how many items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    start: usize,
    limit: usize,
}

/// One page of a list, with the cursor to the next page (none after the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl PageRequest {
    /// The page a caller asked for: `limit` items (default [`DEFAULT_PAGE_LIMIT`]) after
    /// `cursor` (none or empty: the first page). A bad limit is reported before a bad cursor.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, PageError> {
        let limit = match limit.unwrap_or(DEFAULT_PAGE_LIMIT) {
            n @ 1..=MAX_PAGE_LIMIT => n as usize,
            _ => return Err(PageError::Limit),
        };
        let start = match cursor.filter(|c| !c.is_empty()) {
            None => 0,
            Some(cursor) => decode_cursor(cursor).ok_or(PageError::Cursor)?,
        };
        // A store counts rows in i64: a forged offset whose page end does not fit is not a
        // cursor this API gave out (and must not wrap into a negative SQL LIMIT).
        start
            .checked_add(limit)
            .and_then(|end| end.checked_add(1))
            .and_then(|needed| i64::try_from(needed).ok())
            .ok_or(PageError::Cursor)?;
        Ok(PageRequest { start, limit })
    }

    /// How many items from the head of the list serve this page and show whether another
    /// follows, for a store that can stop reading early. Fits an i64 ([`parse`](Self::parse)
    /// refuses cursors for which it would not).
    pub fn items_needed(&self) -> usize {
        self.start + self.limit + 1
    }

    /// This page of `items`, which holds the whole list or at least its first
    /// [`items_needed`](Self::items_needed).
    pub fn slice<T>(&self, items: Vec<T>) -> Page<T> {
        let total = items.len();
        let items: Vec<T> = items
            .into_iter()
            .skip(self.start)
            .take(self.limit)
            .collect();
        let end = self.start.saturating_add(items.len());
        let next_cursor = (end < total).then(|| encode_cursor(end));
        Page { items, next_cursor }
    }
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    text.strip_prefix("o:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(limit: i64, cursor: Option<&str>) -> PageRequest {
        PageRequest::parse(Some(limit), cursor).unwrap()
    }

    #[test]
    fn limit_defaults_to_50_and_must_be_1_to_100() {
        assert_eq!(
            PageRequest::parse(None, None),
            Ok(PageRequest {
                start: 0,
                limit: 50
            })
        );
        for ok in [1, 100] {
            assert_eq!(request(ok, None).limit, ok as usize);
        }
        for bad in [0, -1, 101, i64::MAX] {
            assert_eq!(
                PageRequest::parse(Some(bad), None),
                Err(PageError::Limit),
                "{bad}"
            );
        }
        assert_eq!(
            PageRequest::parse(Some(0), Some("garbage")),
            Err(PageError::Limit),
            "the limit is checked first"
        );
    }

    #[test]
    fn only_cursors_handed_out_are_accepted() {
        assert_eq!(request(10, Some("")).start, 0, "empty: the first page");
        let not_ours = [
            "garbage!".to_string(),
            URL_SAFE_NO_PAD.encode("12"),
            URL_SAFE_NO_PAD.encode("o:-1"),
            URL_SAFE_NO_PAD.encode("o:x"),
            URL_SAFE_NO_PAD.encode([b'o', b':', 0xff]),
        ];
        for cursor in not_ours {
            assert_eq!(
                PageRequest::parse(None, Some(&cursor)),
                Err(PageError::Cursor),
                "{cursor}"
            );
        }
    }

    #[test]
    fn following_the_cursors_covers_the_list_once_in_order() {
        let list: Vec<u32> = (0..7).collect();
        let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
        loop {
            let page = request(3, cursor.as_deref()).slice(list.clone());
            seen.extend(page.items);
            pages += 1;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!((seen, pages), (list, 3));

        let exact = request(7, None).slice((0..7).collect::<Vec<u32>>());
        assert_eq!(exact.next_cursor, None, "no cursor to an empty page");
        let empty = request(3, None).slice(Vec::<u32>::new());
        assert_eq!((empty.items.len(), empty.next_cursor), (0, None));
    }

    #[test]
    fn the_head_of_the_list_serves_the_same_page_as_the_whole() {
        let list: Vec<u32> = (0..20).collect();
        let second = request(5, Some(&encode_cursor(5)));
        assert_eq!(second.items_needed(), 11);
        let head: Vec<u32> = list[..second.items_needed()].to_vec();
        assert_eq!(second.slice(head), second.slice(list));
    }

    #[test]
    fn a_cursor_whose_page_end_overflows_is_refused() {
        for forged in [usize::MAX, usize::MAX - 50, i64::MAX as usize] {
            assert_eq!(
                PageRequest::parse(Some(50), Some(&encode_cursor(forged))),
                Err(PageError::Cursor),
                "{forged}"
            );
        }
    }

    #[test]
    fn a_cursor_past_the_end_gives_an_empty_last_page() {
        let far = request(50, Some(&encode_cursor(1_000_000)));
        assert_eq!(far.items_needed(), 1_000_051);
        assert_eq!(
            far.slice(vec![1, 2, 3]),
            Page {
                items: vec![],
                next_cursor: None
            }
        );
    }
}
