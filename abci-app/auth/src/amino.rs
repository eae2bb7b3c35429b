//! `SIGN_MODE_LEGACY_AMINO_JSON` sign bytes: the document Ledger, Keplr-with-Ledger and every
//! CosmJS `OfflineAminoSigner` sign, rebuilt from a decoded transaction.
//!
//! The signer never sees the protobuf bytes. It signs the UTF-8 of a compact JSON `StdSignDoc`:
//!
//! ```text
//! {"account_number":"N","chain_id":"…","fee":{"amount":[{"amount":"0","denom":"ucny"}],"gas":"200000"},
//!  "memo":"…","msgs":[{"type":"wasm/MsgExecuteContract","value":{"contract":"usage1…","funds":[],
//!  "msg":{…},"sender":"usage1…"}}],"sequence":"N","timeout_height":"N"}
//! ```
//!
//! - object keys sorted at every depth, the contract message included; integers as decimal
//!   strings; `memo` always present; `timeout_height` only when non-zero; `fee.amount` `[]` when
//!   empty; then `&`, `<`, `>` written as `\u0026`, `\u003c`, `\u003e`;
//! - each `cosmwasm.wasm.v1` message as CosmJS's `createWasmAminoConverters` shapes it (the names
//!   are wasmd's `amino.name`s): `msg` inlined as JSON, bytes (`wasm_byte_code`, `salt`) in
//!   base64, `admin` and `fix_msg` omitted when empty/false, access types by name.
//!
//! The signature covers this document only, not the transaction's bytes. The chain therefore
//! rebuilds it from what it decoded (messages, memo, timeout height, fee, the signer's sequence)
//! plus its own chain id and the account's number, and verifies against that. The document is
//! written by an explicit canonical writer, independent of any JSON library's map ordering.
//!
//! # Where CosmJS and the Go SDK differ, this follows the signer (CosmJS, Keplr)
//!
//! Both re-parse each contract message and re-serialise it sorted; they agree on everything a
//! contract message normally holds, and part in corners that this writer settles as JavaScript
//! does, because that is what wallets sign:
//! - key order is JavaScript's: keys that are array indices (`"0"`, `"9"`, `"10"`, up to
//!   2^32 - 2) first in numeric order, then the others by UTF-16 code units (the Go SDK sorts all
//!   keys by UTF-8 bytes);
//! - strings are escaped as `JSON.stringify` does (`\"`, `\\`, `\b \f \n \r \t`, other control
//!   characters and lone surrogates as lowercase `\u00xx`; U+2028, U+2029 and DEL literal), then
//!   `& < >` as above.
//!
//! Numbers are written exactly as they appear in the message bytes. CosmJS re-serialises every
//! number through a JavaScript double (`1.0` → `1`, `1E3` → `1000`, `-0` → `0`, integers beyond
//! 2^53 rounded), but it also builds the transaction's message bytes with `JSON.stringify` of the
//! same parsed value, so every number in a CosmJS-built transaction is already in that form and is
//! reproduced verbatim. A number in another form (written by some other tool) is kept as written:
//! the signer signed its own rendering, the signature does not verify, and the transaction is
//! refused. That costs nothing real and keeps floating point out of the chain; it also means two
//! spellings of one number never share a signature, so a relayer cannot turn a `1` the signer
//! authorised into a `1.0` a contract would parse differently.
//!
//! A contract message may be any JSON value (wasmd inlines strings and arrays too). A message
//! that repeats a key is refused: the signer saw one value, the contract might read the other.

use base64::Engine as _;

use crate::error::{clip, AuthError};
use crate::msg::{Coin, InstantiatePermission, Msg};
use crate::tx::DecodedTx;

/// Deepest nesting of arrays and objects in a contract message written into an amino JSON sign
/// doc. It bounds the writer's recursion; serde_json, which checks every contract message while
/// decoding, stops at the same depth, so no message that decoded is refused for it.
pub const MAX_JSON_DEPTH: usize = 128;

/// Why a contract message cannot be put into an amino JSON sign doc.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AminoJsonError {
    /// The message bytes are not UTF-8.
    #[error("contract msg is not UTF-8")]
    NotUtf8,
    /// The message bytes are not one JSON value.
    #[error("contract msg is not valid JSON (at byte {offset})")]
    Syntax {
        /// Byte offset of the first character that does not fit.
        offset: usize,
    },
    /// Arrays and objects nest deeper than [`MAX_JSON_DEPTH`].
    #[error("contract msg nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// An object has the same key twice.
    #[error("contract msg repeats the key {key:?}")]
    DuplicateKey {
        /// The key (cut to 64 characters).
        key: String,
    },
}

/// The bytes a `SIGN_MODE_LEGACY_AMINO_JSON` signer signs for `tx`, on chain `chain_id`, from the
/// account numbered `account_number` (see the module documentation for the format).
///
/// # Errors
/// [`AuthError::AminoJsonMsg`] when a contract message cannot be written (not UTF-8 or not JSON,
/// a repeated key, too deep).
pub fn amino_json_sign_bytes(
    tx: &DecodedTx,
    chain_id: &str,
    account_number: u64,
) -> Result<Vec<u8>, AuthError> {
    let msgs = tx
        .msgs
        .iter()
        .enumerate()
        .map(|(msg_index, msg)| {
            amino_msg(msg).map_err(|reason| AuthError::AminoJsonMsg { msg_index, reason })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut doc = vec![
        ("account_number", Json::decimal(account_number)),
        ("chain_id", Json::string(chain_id)),
        (
            "fee",
            Json::object(vec![
                ("amount", coins(&tx.fee.amount)),
                ("gas", Json::decimal(tx.fee.gas_limit)),
            ]),
        ),
        ("memo", Json::string(&tx.memo)),
        ("msgs", Json::Array(msgs)),
        ("sequence", Json::decimal(tx.signer_info.sequence)),
    ];
    if tx.timeout_height != 0 {
        doc.push(("timeout_height", Json::decimal(tx.timeout_height)));
    }
    let mut out = Vec::new();
    write_json(&Json::object(doc), &mut out);
    Ok(out)
}

/// `{"type": <wasmd's amino name>, "value": {…}}` for one message.
fn amino_msg(msg: &Msg) -> Result<Json, AminoJsonError> {
    let (name, value) = match msg {
        Msg::ExecuteContract {
            sender,
            contract,
            msg,
            funds,
        } => (
            "wasm/MsgExecuteContract",
            vec![
                ("sender", Json::string(sender)),
                ("contract", Json::string(contract)),
                ("msg", parse_json(msg)?),
                ("funds", coins(funds)),
            ],
        ),
        Msg::InstantiateContract {
            sender,
            admin,
            code_id,
            label,
            msg,
            funds,
        } => {
            let mut value = vec![
                ("sender", Json::string(sender)),
                ("code_id", Json::decimal(*code_id)),
                ("label", Json::string(label)),
                ("msg", parse_json(msg)?),
                ("funds", coins(funds)),
            ];
            if let Some(admin) = admin {
                value.push(("admin", Json::string(admin)));
            }
            ("wasm/MsgInstantiateContract", value)
        }
        Msg::InstantiateContract2 {
            sender,
            admin,
            code_id,
            label,
            msg,
            funds,
            salt,
            fix_msg,
        } => {
            let mut value = vec![
                ("sender", Json::string(sender)),
                ("code_id", Json::decimal(*code_id)),
                ("label", Json::string(label)),
                ("msg", parse_json(msg)?),
                ("funds", coins(funds)),
                ("salt", Json::string(&base64(salt))),
            ];
            if let Some(admin) = admin {
                value.push(("admin", Json::string(admin)));
            }
            if *fix_msg {
                value.push(("fix_msg", Json::Bool(true)));
            }
            ("wasm/MsgInstantiateContract2", value)
        }
        Msg::MigrateContract {
            sender,
            contract,
            code_id,
            msg,
        } => (
            "wasm/MsgMigrateContract",
            vec![
                ("sender", Json::string(sender)),
                ("contract", Json::string(contract)),
                ("code_id", Json::decimal(*code_id)),
                ("msg", parse_json(msg)?),
            ],
        ),
        Msg::StoreCode {
            sender,
            wasm_byte_code,
            instantiate_permission,
        } => {
            let mut value = vec![
                ("sender", Json::string(sender)),
                ("wasm_byte_code", Json::string(&base64(wasm_byte_code))),
            ];
            if let Some(permission) = instantiate_permission {
                value.push(("instantiate_permission", access_config(permission)));
            }
            ("wasm/MsgStoreCode", value)
        }
        Msg::UpdateAdmin {
            sender,
            new_admin,
            contract,
        } => (
            "wasm/MsgUpdateAdmin",
            vec![
                ("sender", Json::string(sender)),
                ("new_admin", Json::string(new_admin)),
                ("contract", Json::string(contract)),
            ],
        ),
        Msg::ClearAdmin { sender, contract } => (
            "wasm/MsgClearAdmin",
            vec![
                ("sender", Json::string(sender)),
                ("contract", Json::string(contract)),
            ],
        ),
    };
    Ok(Json::object(vec![
        ("type", Json::string(name)),
        ("value", Json::object(value)),
    ]))
}

/// wasmd's `AccessConfig` as CosmJS writes it: the type by name, `addresses` only when there are
/// any (the decoder refuses addresses with any other type).
fn access_config(permission: &InstantiatePermission) -> Json {
    match permission {
        InstantiatePermission::Nobody => Json::object(vec![("permission", Json::string("Nobody"))]),
        InstantiatePermission::Everybody => {
            Json::object(vec![("permission", Json::string("Everybody"))])
        }
        InstantiatePermission::AnyOfAddresses(addresses) => Json::object(vec![
            (
                "addresses",
                Json::Array(addresses.iter().map(|a| Json::string(a)).collect()),
            ),
            ("permission", Json::string("AnyOfAddresses")),
        ]),
    }
}

/// Coins as `[{"amount":"N","denom":"…"}]`, `[]` when there are none. Amounts are the decoder's
/// integers in decimal: the form every wallet writes (an amount with leading zeros would have
/// been signed as written and fails verification).
fn coins(coins: &[Coin]) -> Json {
    Json::Array(
        coins
            .iter()
            .map(|c| {
                Json::object(vec![
                    (
                        "amount",
                        Json::String(c.amount.to_string().encode_utf16().collect()),
                    ),
                    ("denom", Json::string(&c.denom)),
                ])
            })
            .collect(),
    )
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ----- the JSON model ----------------------------------------------------------------------------

/// A JSON value as the sign doc needs it: strings as UTF-16 code units (JavaScript's model, which
/// fixes both the key order and how lone surrogates are written), numbers as their source text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(Vec<u16>),
    Array(Vec<Json>),
    Object(Vec<(Vec<u16>, Json)>),
}

impl Json {
    fn string(text: &str) -> Json {
        Json::String(text.encode_utf16().collect())
    }

    fn decimal(n: u64) -> Json {
        Json::String(n.to_string().encode_utf16().collect())
    }

    fn object(entries: Vec<(&str, Json)>) -> Json {
        Json::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.encode_utf16().collect(), v))
                .collect(),
        )
    }
}

/// The order in which JavaScript enumerates an object's keys once they were inserted sorted:
/// array indices (canonical decimal integers below 2^32 - 1) first, numerically; then every other
/// key by UTF-16 code units (`Array.prototype.sort`'s default).
fn js_key_order(a: &[u16], b: &[u16]) -> std::cmp::Ordering {
    match (array_index(a), array_index(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

fn array_index(key: &[u16]) -> Option<u32> {
    let digit = |u: &u16| (u16::from(b'0')..=u16::from(b'9')).contains(u);
    if key.is_empty() || key.len() > 10 || !key.iter().all(digit) {
        return None;
    }
    if key.len() > 1 && key.first() == Some(&u16::from(b'0')) {
        return None;
    }
    let value = key.iter().fold(0u64, |n, &u| {
        n * 10 + u64::from(u.saturating_sub(u16::from(b'0')))
    });
    // 2^32 - 1 is the largest array length, so the largest index is 2^32 - 2.
    u32::try_from(value).ok().filter(|&v| v != u32::MAX)
}

// ----- writing -----------------------------------------------------------------------------------

/// Compact JSON, keys in JavaScript's order, strings escaped as `JSON.stringify` does followed by
/// CosmJS's `escapeCharacters` (`&`, `<`, `>`).
fn write_json(value: &Json, out: &mut Vec<u8>) {
    match value {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::Number(text) => out.extend_from_slice(text.as_bytes()),
        Json::String(units) => write_string(units, out),
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item, out);
            }
            out.push(b']');
        }
        Json::Object(entries) => {
            let mut sorted: Vec<&(Vec<u16>, Json)> = entries.iter().collect();
            sorted.sort_by(|a, b| js_key_order(&a.0, &b.0));
            out.push(b'{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_json(item, out);
            }
            out.push(b'}');
        }
    }
}

fn write_string(units: &[u16], out: &mut Vec<u8>) {
    out.push(b'"');
    for decoded in char::decode_utf16(units.iter().copied()) {
        match decoded {
            Ok(c) => write_char(c, out),
            // A lone surrogate: `JSON.stringify` (ES2019) writes it as an escape.
            Err(lone) => write_unicode_escape(lone.unpaired_surrogate(), out),
        }
    }
    out.push(b'"');
}

fn write_char(c: char, out: &mut Vec<u8>) {
    match c {
        '"' => out.extend_from_slice(b"\\\""),
        '\\' => out.extend_from_slice(b"\\\\"),
        '\u{8}' => out.extend_from_slice(b"\\b"),
        '\u{c}' => out.extend_from_slice(b"\\f"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\r' => out.extend_from_slice(b"\\r"),
        '\t' => out.extend_from_slice(b"\\t"),
        '&' | '<' | '>' => write_unicode_escape(c as u16, out),
        c if (c as u32) < 0x20 => write_unicode_escape(c as u16, out),
        c => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

fn write_unicode_escape(unit: u16, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12u16, 8, 4, 0] {
        let nibble = usize::from((unit >> shift) & 0xf);
        out.push(HEX.get(nibble).copied().unwrap_or(b'0'));
    }
}

// ----- parsing -----------------------------------------------------------------------------------

/// Parses a contract message (RFC 8259, as `JSON.parse`), keeping each number's text and refusing
/// repeated keys.
fn parse_json(bytes: &[u8]) -> Result<Json, AminoJsonError> {
    let text = std::str::from_utf8(bytes).map_err(|_| AminoJsonError::NotUtf8)?;
    let mut parser = Parser { text, pos: 0 };
    parser.skip_whitespace();
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != text.len() {
        return Err(parser.syntax());
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn syntax(&self) -> AminoJsonError {
        AminoJsonError::Syntax { offset: self.pos }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Result<(), AminoJsonError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, AminoJsonError> {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        if rest.starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.syntax())
        }
    }

    /// One value; `depth` counts the arrays and objects around it.
    fn value(&mut self, depth: usize) -> Result<Json, AminoJsonError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.syntax()),
        }
    }

    fn check_depth(depth: usize) -> Result<(), AminoJsonError> {
        if depth > MAX_JSON_DEPTH {
            Err(AminoJsonError::TooDeep {
                max: MAX_JSON_DEPTH,
            })
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, AminoJsonError> {
        Self::check_depth(depth)?;
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.next_byte() {
                Some(b',') => {}
                Some(b']') => return Ok(Json::Array(items)),
                _ => {
                    return Err(AminoJsonError::Syntax {
                        offset: self.pos.saturating_sub(1),
                    })
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, AminoJsonError> {
        Self::check_depth(depth)?;
        self.expect(b'{')?;
        let mut entries = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(entries));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.syntax());
            }
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(b':')?;
            self.skip_whitespace();
            let value = self.value(depth)?;
            entries.push((key, value));
            self.skip_whitespace();
            match self.next_byte() {
                Some(b',') => {}
                Some(b'}') => break,
                _ => {
                    return Err(AminoJsonError::Syntax {
                        offset: self.pos.saturating_sub(1),
                    })
                }
            }
        }
        entries.sort_by(|a, b| js_key_order(&a.0, &b.0));
        if let Some(pair) = entries.windows(2).find(|w| match w {
            [a, b] => a.0 == b.0,
            _ => false,
        }) {
            let key = pair.first().map(|(k, _)| k.as_slice()).unwrap_or_default();
            return Err(AminoJsonError::DuplicateKey {
                key: clip(&String::from_utf16_lossy(key), 64),
            });
        }
        Ok(Json::Object(entries))
    }

    /// A string, as UTF-16 code units (escapes decoded, lone surrogates kept).
    fn string(&mut self) -> Result<Vec<u16>, AminoJsonError> {
        self.expect(b'"')?;
        let mut units = Vec::new();
        loop {
            let start = self.pos;
            let c = self
                .text
                .get(self.pos..)
                .and_then(|rest| rest.chars().next())
                .ok_or_else(|| self.syntax())?;
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(units),
                '\\' => {
                    let unit = match self.next_byte() {
                        Some(b'"') => u16::from(b'"'),
                        Some(b'\\') => u16::from(b'\\'),
                        Some(b'/') => u16::from(b'/'),
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0c,
                        Some(b'n') => u16::from(b'\n'),
                        Some(b'r') => u16::from(b'\r'),
                        Some(b't') => u16::from(b'\t'),
                        Some(b'u') => self.hex4()?,
                        _ => return Err(AminoJsonError::Syntax { offset: start }),
                    };
                    units.push(unit);
                }
                c if (c as u32) < 0x20 => return Err(AminoJsonError::Syntax { offset: start }),
                c => {
                    let mut buf = [0u16; 2];
                    units.extend_from_slice(c.encode_utf16(&mut buf));
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u16, AminoJsonError> {
        let mut unit: u16 = 0;
        for _ in 0..4 {
            let digit = self
                .next_byte()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| AminoJsonError::Syntax {
                    offset: self.pos.saturating_sub(1),
                })?;
            unit = (unit << 4) | digit as u16;
        }
        Ok(unit)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as written.
    fn number(&mut self) -> Result<Json, AminoJsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.syntax()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let text = self
            .text
            .get(start..self.pos)
            .ok_or_else(|| self.syntax())?;
        Ok(Json::Number(text.to_string()))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), AminoJsonError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.syntax());
        }
        self.digits();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> Result<String, AminoJsonError> {
        let mut out = Vec::new();
        write_json(&parse_json(text.as_bytes())?, &mut out);
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn keys_are_sorted_at_every_depth_and_whitespace_is_dropped() {
        assert_eq!(
            canonical(r#" { "b" : [ {"z":1, "a":{"y":null,"x":true}} ], "a" : "" } "#).unwrap(),
            r#"{"a":"","b":[{"a":{"x":true,"y":null},"z":1}]}"#
        );
    }

    #[test]
    fn array_index_keys_come_first_in_numeric_order_as_javascript_enumerates_them() {
        assert_eq!(
            canonical(r#"{"b":0,"10":0,"9":0,"01":0,"":0,"4294967295":0,"4294967294":0,"-1":0}"#)
                .unwrap(),
            r#"{"9":0,"10":0,"4294967294":0,"":0,"-1":0,"01":0,"4294967295":0,"b":0}"#
        );
    }

    #[test]
    fn other_keys_sort_by_utf16_code_units_not_utf8_bytes() {
        // U+FB01 is one UTF-16 unit (0xFB01); U+1F600 starts with the surrogate 0xD83D, so it
        // sorts first in UTF-16 although its UTF-8 (F0 ..) sorts after U+FB01's (EF ..).
        assert_eq!(
            canonical("{\"\u{FB01}\":1,\"\u{1F600}\":2}").unwrap(),
            "{\"\u{1F600}\":2,\"\u{FB01}\":1}"
        );
    }

    #[test]
    fn strings_are_escaped_as_json_stringify_then_ampersand_and_angle_brackets() {
        assert_eq!(
            canonical(r#""\u0041\/\"\\\b\f\n\r\t\u0001\u001f\u007f\u2028 é & < >""#).unwrap(),
            "\"A/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}\u{2028} é \\u0026 \\u003c \\u003e\""
        );
        // lone surrogates stay escapes (lowercase), a proper pair becomes the character
        assert_eq!(
            canonical(r#"["\uD800","\uDC00x","\uD83D\uDE00"]"#).unwrap(),
            "[\"\\ud800\",\"\\udc00x\",\"\u{1F600}\"]"
        );
    }

    #[test]
    fn numbers_are_kept_as_written() {
        assert_eq!(
            canonical("[0,-7,1.5,1e+21,1E21,-0,1.0,9007199254740993]").unwrap(),
            "[0,-7,1.5,1e+21,1E21,-0,1.0,9007199254740993]"
        );
    }

    #[test]
    fn any_json_value_may_be_a_contract_message() {
        assert_eq!(canonical(r#" "ping" "#).unwrap(), r#""ping""#);
        assert_eq!(canonical("[1,{}]").unwrap(), "[1,{}]");
        assert_eq!(canonical("null").unwrap(), "null");
    }

    #[test]
    fn a_repeated_key_is_refused() {
        assert_eq!(
            canonical(r#"{"a":{"k":1,"j":0,"k":2}}"#),
            Err(AminoJsonError::DuplicateKey { key: "k".into() })
        );
    }

    #[test]
    fn invalid_json_is_refused_with_its_offset() {
        for (text, offset) in [
            ("", 0),
            ("{", 1),
            ("{\"a\" 1}", 5),
            ("[1,]", 3),
            ("[01]", 2),
            ("1.", 2),
            ("-", 1),
            ("1e", 2),
            ("\"\\x\"", 1),
            ("\"\\u12g4\"", 5),
            ("\"a\u{1}\"", 2),
            ("tru", 0),
            ("{} {}", 3),
            ("{'a':1}", 1),
            ("\u{feff}{}", 0),
        ] {
            assert_eq!(
                canonical(text),
                Err(AminoJsonError::Syntax { offset }),
                "{text:?}"
            );
        }
        assert_eq!(
            parse_json(&[b'"', 0xff, b'"']),
            Err(AminoJsonError::NotUtf8)
        );
    }

    #[test]
    fn nesting_is_limited_without_exhausting_the_stack() {
        let ok = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(canonical(&ok).is_ok());
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert_eq!(
            canonical(&deep),
            Err(AminoJsonError::TooDeep {
                max: MAX_JSON_DEPTH
            })
        );
        let deep_objects = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
        assert!(matches!(
            canonical(&deep_objects),
            Err(AminoJsonError::TooDeep { .. })
        ));
    }
}
