//! Query parameters as grpc-gateway v1 reads them into a request message: a field is named by its
//! proto name or its JSON (lowerCamel) name, nested fields with dots (`pagination.limit`,
//! `pagination.countTotal`), a repeated field by repeating the parameter; unknown names are
//! ignored; a value that does not parse is InvalidArgument.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use crate::error::GatewayError;

/// The decoded parameters of one request, names normalised to snake_case.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The parameters of the query string `raw` (without `?`); `None` is no query string.
    pub fn parse(raw: Option<&str>) -> Params {
        let Some(raw) = raw else {
            return Params::default();
        };
        Params(
            raw.split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (snake_case(&form_decode(k)), form_decode(v))
                })
                .collect(),
        )
    }

    /// The last value of `name` (the gateway keeps the last of a repeated scalar).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `name` as an unsigned integer (0 when absent).
    pub fn u64(&self, name: &str) -> Result<u64, GatewayError> {
        match self.get(name) {
            None | Some("") => Ok(0),
            Some(v) => v.parse().map_err(|_| {
                GatewayError::invalid(format!(
                    "strconv.ParseUint: parsing {v:?}: invalid syntax ({name})"
                ))
            }),
        }
    }

    /// `name` as a signed integer (0 when absent).
    pub fn i64(&self, name: &str) -> Result<i64, GatewayError> {
        match self.get(name) {
            None | Some("") => Ok(0),
            Some(v) => v.parse().map_err(|_| {
                GatewayError::invalid(format!(
                    "strconv.ParseInt: parsing {v:?}: invalid syntax ({name})"
                ))
            }),
        }
    }

    /// `name` as a boolean, in Go's `strconv.ParseBool` spellings (false when absent).
    pub fn bool(&self, name: &str) -> Result<bool, GatewayError> {
        match self.get(name) {
            None | Some("") => Ok(false),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(v) => Err(GatewayError::invalid(format!(
                "strconv.ParseBool: parsing {v:?}: invalid syntax ({name})"
            ))),
        }
    }

    /// `name` as bytes in base64, standard or URL-safe, padded or not (absent: `None`).
    pub fn bytes(&self, name: &str) -> Result<Option<Vec<u8>>, GatewayError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => decode_base64(v)
                .map(Some)
                .ok_or_else(|| GatewayError::invalid(format!("{name}: illegal base64 data"))),
        }
    }
}

/// Base64 as the gateway accepts bytes in a path or a query: standard or URL-safe alphabet, with
/// or without padding. A space stands for a `+` that a form decoding turned into one.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.replace(' ', "+");
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&s).ok())
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; malformed escapes
/// are kept as they are, invalid UTF-8 replaced.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `pagination.countTotal` -> `pagination.count_total`: the JSON name of each segment back to the
/// proto name.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_and_json_names_both_name_a_field() {
        let p = Params::parse(Some(
            "pagination.countTotal=true&pagination.limit=2&orderBy=ORDER_BY_DESC",
        ));
        assert!(p.bool("pagination.count_total").unwrap());
        assert_eq!(p.u64("pagination.limit").unwrap(), 2);
        assert_eq!(p.get("order_by"), Some("ORDER_BY_DESC"));
    }

    #[test]
    fn repeated_parameters_keep_every_value_in_order() {
        let p = Params::parse(Some(
            "events=message.sender%3D%27a%27&events=tx.height%3D3&query=a+b",
        ));
        assert_eq!(p.all("events"), vec!["message.sender='a'", "tx.height=3"]);
        assert_eq!(p.get("query"), Some("a b"));
    }

    #[test]
    fn values_that_do_not_parse_are_invalid_arguments() {
        let p = Params::parse(Some("pagination.limit=ten&pagination.reverse=maybe&h=%zz"));
        assert!(p.u64("pagination.limit").is_err());
        assert!(p.bool("pagination.reverse").is_err());
        assert_eq!(p.get("h"), Some("%zz"));
        assert_eq!(p.u64("absent").unwrap(), 0);
    }

    #[test]
    fn bytes_are_read_in_either_base64_alphabet() {
        assert_eq!(decode_base64("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64("-_8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64(" /8=").unwrap(), vec![0xfb, 0xff]);
        assert!(decode_base64("!!").is_none());
    }
}
