//! The SDK's `PageRequest` / `PageResponse` (types/query/pagination.go) over a list the
//! application answers whole: a page starts at a key (the store key of its first item, relative to
//! the module's prefix) or at an offset, never both; `limit` 0 is 100 and then counts the total;
//! `next_key` is the key of the first item after the page, `null` on the last page.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::error::GatewayError;
use crate::params::Params;

/// The SDK's default page size.
pub const DEFAULT_LIMIT: u64 = 100;

/// `pagination.*` of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub key: Option<Vec<u8>>,
    pub offset: u64,
    pub limit: u64,
    pub count_total: bool,
    pub reverse: bool,
}

impl PageRequest {
    /// Reads `pagination.key` (base64), `.offset`, `.limit`, `.count_total` and `.reverse`.
    pub fn from_params(p: &Params) -> Result<Self, GatewayError> {
        let req = PageRequest {
            key: p.bytes("pagination.key")?,
            offset: p.u64("pagination.offset")?,
            limit: p.u64("pagination.limit")?,
            count_total: p.bool("pagination.count_total")?,
            reverse: p.bool("pagination.reverse")?,
        };
        if req.key.is_some() && req.offset > 0 {
            return Err(GatewayError::invalid(
                "invalid request, either offset or key is expected, got both",
            ));
        }
        Ok(req)
    }

    /// CometBFT's page (from 1) and page size for this request, as the SDK's `ParsePagination`
    /// turns an offset into a page.
    pub fn page_and_limit(&self) -> (u64, u64) {
        let limit = if self.limit == 0 {
            DEFAULT_LIMIT
        } else {
            self.limit
        };
        // Saturating: the largest offset is a page past the end, which CometBFT refuses.
        ((self.offset / limit).saturating_add(1), limit)
    }

    /// The page of `items` (ascending by `key_of`, keys unique) and its `PageResponse` as JSON.
    pub fn paginate<T>(&self, items: Vec<T>, key_of: impl Fn(&T) -> Vec<u8>) -> (Vec<T>, Value) {
        let (limit, count_total) = if self.limit == 0 {
            (DEFAULT_LIMIT, true)
        } else {
            (self.limit, self.count_total)
        };
        let total = items.len();
        let mut ordered: Vec<T> = items;
        if self.reverse {
            ordered.reverse();
        }
        let start = match &self.key {
            // The first item at or after the key in the page's direction.
            Some(key) => ordered
                .iter()
                .position(|item| {
                    let k = key_of(item);
                    if self.reverse {
                        k <= *key
                    } else {
                        k >= *key
                    }
                })
                .unwrap_or(ordered.len()),
            None => usize::try_from(self.offset).unwrap_or(usize::MAX),
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut rest = ordered.into_iter().skip(start);
        let page: Vec<T> = rest.by_ref().take(limit).collect();
        let next_key = rest
            .next()
            .map(|item| Value::String(B64.encode(key_of(&item))));
        // As the SDK: a page read from a key does not count the total.
        let total = if count_total && self.key.is_none() {
            total
        } else {
            0
        };
        let response = json!({
            "next_key": next_key.unwrap_or(Value::Null),
            "total": total.to_string(),
        });
        (page, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Vec<u8> {
        vec![0, n]
    }

    fn req(query: &str) -> Result<PageRequest, GatewayError> {
        PageRequest::from_params(&Params::parse(Some(query)))
    }

    #[test]
    fn no_pagination_answers_one_page_of_a_hundred_with_the_total() {
        let (page, res) = req("")
            .unwrap()
            .paginate((1..=5).collect(), |n: &u8| key(*n));
        assert_eq!(page, vec![1, 2, 3, 4, 5]);
        assert_eq!(res, json!({"next_key": null, "total": "5"}));
    }

    #[test]
    fn a_limit_pages_and_next_key_starts_the_next_page() {
        let (page, res) = req("pagination.limit=2")
            .unwrap()
            .paginate((1..=5).collect(), |n: &u8| key(*n));
        assert_eq!(page, vec![1, 2]);
        assert_eq!(res["next_key"], json!(B64.encode(key(3))));
        // A total only when asked for, as the SDK counts it.
        assert_eq!(res["total"], "0");
        let next = format!("pagination.limit=2&pagination.key={}", B64.encode(key(3)));
        let (page, res) = req(&next)
            .unwrap()
            .paginate((1..=5).collect(), |n: &u8| key(*n));
        assert_eq!(page, vec![3, 4]);
        let last = format!(
            "pagination.limit=2&pagination.key={}",
            res["next_key"].as_str().unwrap()
        );
        let (page, res) = req(&last)
            .unwrap()
            .paginate((1..=5).collect(), |n: &u8| key(*n));
        assert_eq!(page, vec![5]);
        assert_eq!(res["next_key"], Value::Null);
    }

    #[test]
    fn offset_count_total_and_reverse_are_honoured() {
        let (page, res) = req("pagination.offset=1&pagination.limit=2&pagination.count_total=true")
            .unwrap()
            .paginate((1..=5).collect(), |n: &u8| key(*n));
        assert_eq!(page, vec![2, 3]);
        assert_eq!(res["total"], "5");
        let (page, _) = req("pagination.limit=2&pagination.reverse=true")
            .unwrap()
            .paginate((1..=5).collect(), |n: &u8| key(*n));
        assert_eq!(page, vec![5, 4]);
        let (page, _) = req("pagination.offset=9")
            .unwrap()
            .paginate((1..=5).collect(), |n: &u8| key(*n));
        assert!(page.is_empty());
    }

    #[test]
    fn a_key_and_an_offset_together_are_refused() {
        let err = req("pagination.key=AAM=&pagination.offset=1").unwrap_err();
        assert_eq!(err.code, crate::error::Code::InvalidArgument);
    }

    #[test]
    fn the_largest_offset_is_a_page_past_the_end_not_an_overflow() {
        // u64::MAX / 1 + 1 would overflow (and abort a release build of the node).
        let (page, limit) = req("pagination.offset=18446744073709551615&pagination.limit=1")
            .unwrap()
            .page_and_limit();
        assert_eq!((page, limit), (u64::MAX, 1));
    }

    #[test]
    fn an_offset_becomes_cometbft_page_and_size() {
        assert_eq!(req("").unwrap().page_and_limit(), (1, 100));
        assert_eq!(
            req("pagination.offset=20&pagination.limit=10")
                .unwrap()
                .page_and_limit(),
            (3, 10)
        );
    }
}
