//! Values shared by the three messages: amounts, parties, and the checks of the schema's
//! simple types (IBAN, BIC, currency, dates, `MaxNText`).

use crate::xml::{check_max_text, El};
use crate::XmlError;

/// A money amount in minor units (cents) of an ISO 4217 currency, written with exactly two
/// fraction digits (`1234.05`). The schema type is `ActiveOrHistoricCurrencyAndAmount`
/// (`totalDigits=18`, `fractionDigits=5`); this crate uses two fraction digits, so amounts up
/// to `10^18 - 1` minor units fit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Amount {
    /// The amount in minor units: `123405` is `1234.05`.
    pub minor_units: u128,
    /// ISO 4217 currency code, three upper-case letters (`EUR`).
    pub currency: String,
}

/// The largest number of minor units an amount may have: 18 digits in all.
pub const MAX_MINOR_UNITS: u128 = 999_999_999_999_999_999;

impl Amount {
    /// An amount of `minor_units` in `currency`.
    pub fn new(minor_units: u128, currency: impl Into<String>) -> Self {
        Amount {
            minor_units,
            currency: currency.into(),
        }
    }

    /// The amount as the schema writes it, with two fraction digits (`1234.05`).
    pub fn decimal(&self) -> String {
        format_minor(self.minor_units)
    }
}

/// Writes minor units with two fraction digits.
pub(crate) fn format_minor(minor: u128) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// Parses an `xs:decimal` that must be non-negative, with at most `max_fraction` fraction digits
/// that are not zero, into minor units (hundredths). Returns the reason on failure.
fn parse_decimal(text: &str, max_fraction: usize) -> Result<u128, String> {
    let t = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    if t.starts_with('-') {
        return Err("is negative".into());
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err("is not a decimal number".into());
    }
    if frac.len() > max_fraction {
        return Err(format!("has more than {max_fraction} fraction digits"));
    }
    let significant_frac = frac.trim_end_matches('0');
    if significant_frac.len() > 2 {
        return Err("has more than 2 fraction digits".into());
    }
    let int = int.trim_start_matches('0');
    if int.len() > 16 {
        return Err("has more than 18 digits".into());
    }
    let mut minor: u128 = 0;
    for b in int.bytes().chain(significant_frac.bytes()) {
        minor = minor * 10 + u128::from(b - b'0');
    }
    for _ in significant_frac.len()..2 {
        minor *= 10;
    }
    if minor > MAX_MINOR_UNITS {
        return Err("has more than 18 digits".into());
    }
    Ok(minor)
}

/// Parses a leaf amount element with its `Ccy` attribute.
pub(crate) fn read_amount(el: &El<'_>) -> Result<Amount, XmlError> {
    let node = el.node;
    if let Some(c) = node.children.first() {
        return Err(XmlError::Unexpected {
            path: format!("{}/{}", el.path, c.name),
            detail: "an amount has no child elements".into(),
        });
    }
    let mut currency = None;
    for (ns, name, value) in &node.attrs {
        if ns.is_none() && name == "Ccy" && currency.is_none() {
            currency = Some(value.clone());
        } else {
            return Err(XmlError::Invalid {
                path: el.path.clone(),
                reason: format!("attribute {name:?} is not allowed here"),
            });
        }
    }
    let Some(currency) = currency else {
        return Err(XmlError::Missing {
            path: format!("{}/@Ccy", el.path),
        });
    };
    check_currency(&format!("{}/@Ccy", el.path), &currency)?;
    let minor_units = parse_decimal(&node.text, 2).map_err(|reason| XmlError::Amount {
        path: el.path.clone(),
        value: node.text.clone(),
        reason,
    })?;
    Ok(Amount {
        minor_units,
        currency,
    })
}

/// Parses a `DecimalNumber` total (`CtrlSum`) into hundredths; fraction digits past the second
/// must be zeros.
pub(crate) fn read_ctrl_sum(el: &El<'_>) -> Result<u128, XmlError> {
    let text = el.leaf_text()?;
    parse_decimal(text, 17).map_err(|reason| XmlError::Amount {
        path: el.path.clone(),
        value: text.to_string(),
        reason,
    })
}

fn invalid(path: &str, reason: String) -> XmlError {
    XmlError::Invalid {
        path: path.to_string(),
        reason,
    }
}

/// `ActiveOrHistoricCurrencyCode`: `[A-Z]{3,3}`.
pub(crate) fn check_currency(path: &str, c: &str) -> Result<(), XmlError> {
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!("currency {c:?} is not three upper-case letters"),
        ))
    }
}

/// `IBAN2007Identifier`: `[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}`.
pub(crate) fn check_iban(path: &str, s: &str) -> Result<(), XmlError> {
    let b = s.as_bytes();
    let ok = (5..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!("IBAN {s:?} does not match [A-Z]{{2}}[0-9]{{2}}[a-zA-Z0-9]{{1,30}}"),
        ))
    }
}

/// `BICFIDec2014Identifier`: `[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}`.
pub(crate) fn check_bic(path: &str, s: &str) -> Result<(), XmlError> {
    let b = s.as_bytes();
    let upper_alnum = |x: &u8| x.is_ascii_uppercase() || x.is_ascii_digit();
    let ok = (b.len() == 8 || b.len() == 11)
        && b[..4].iter().all(upper_alnum)
        && b[4..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(upper_alnum);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!(
                "BIC {s:?} does not match [A-Z0-9]{{4}}[A-Z]{{2}}[A-Z0-9]{{2}}([A-Z0-9]{{3}})?"
            ),
        ))
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn valid_date(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    if p.len() != 3 || p[0].len() != 4 || p[1].len() != 2 || p[2].len() != 2 {
        return false;
    }
    match (digits(p[0]), digits(p[1]), digits(p[2])) {
        (Some(y), Some(m), Some(d)) => (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m),
        _ => false,
    }
}

/// `ISODate` as this crate uses it: `YYYY-MM-DD`, a real calendar date.
pub(crate) fn check_date(path: &str, s: &str) -> Result<(), XmlError> {
    if valid_date(s) {
        Ok(())
    } else {
        Err(invalid(path, format!("date {s:?} is not YYYY-MM-DD")))
    }
}

fn valid_time(t: &str) -> bool {
    // hh:mm:ss(.s+)?(Z|(+|-)hh:mm)?
    let (main, zone) = if let Some(m) = t.strip_suffix('Z') {
        (m, None)
    } else if t.len() > 6 && matches!(t.as_bytes()[t.len() - 6], b'+' | b'-') {
        (&t[..t.len() - 6], Some(&t[t.len() - 5..]))
    } else {
        (t, None)
    };
    if let Some(z) = zone {
        let ok = z.len() == 5
            && z.as_bytes()[2] == b':'
            && matches!((digits(&z[..2]), digits(&z[3..])), (Some(h), Some(m)) if (h < 14 && m < 60) || (h == 14 && m == 0));
        if !ok {
            return false;
        }
    }
    let (hms, frac) = match main.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (main, None),
    };
    if let Some(f) = frac {
        if digits(f).is_none() && !(f.len() > 9 && f.bytes().all(|b| b.is_ascii_digit())) {
            return false;
        }
    }
    let p: Vec<&str> = hms.split(':').collect();
    if p.len() != 3 || p.iter().any(|x| x.len() != 2) {
        return false;
    }
    match (digits(p[0]), digits(p[1]), digits(p[2])) {
        (Some(h), Some(m), Some(s)) => h < 24 && m < 60 && s < 60,
        _ => false,
    }
}

/// `ISODateTime` (`xs:dateTime`): `YYYY-MM-DDThh:mm:ss`, optional fraction, optional `Z` or
/// `±hh:mm` zone.
pub(crate) fn check_datetime(path: &str, s: &str) -> Result<(), XmlError> {
    let ok = match s.split_once('T') {
        Some((d, t)) => valid_date(d) && valid_time(t),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!("date-time {s:?} is not YYYY-MM-DDThh:mm:ss[.f][Z|±hh:mm]"),
        ))
    }
}

/// Reads a leaf `ISODateTime`.
pub(crate) fn read_datetime(el: &El<'_>) -> Result<String, XmlError> {
    let t = el.leaf_text()?;
    check_datetime(&el.path, t)?;
    Ok(t.to_string())
}

/// Reads a leaf `ISODate`.
pub(crate) fn read_date(el: &El<'_>) -> Result<String, XmlError> {
    let t = el.leaf_text()?;
    check_date(&el.path, t)?;
    Ok(t.to_string())
}

/// Reads a leaf IBAN.
pub(crate) fn read_iban(el: &El<'_>) -> Result<String, XmlError> {
    let t = el.leaf_text()?;
    check_iban(&el.path, t)?;
    Ok(t.to_string())
}

/// Reads a leaf BIC.
pub(crate) fn read_bic(el: &El<'_>) -> Result<String, XmlError> {
    let t = el.leaf_text()?;
    check_bic(&el.path, t)?;
    Ok(t.to_string())
}

/// A party with an IBAN account: the debtor or a creditor of a transfer, or the counterparty of
/// a booking. Written as the party's `Nm` (`Max140Text`) and its account's `Id/IBAN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Party {
    /// The party's name, 1 to 140 characters.
    pub name: String,
    /// The account's IBAN.
    pub iban: String,
}

impl Party {
    /// A party named `name` holding the account `iban`.
    pub fn new(name: impl Into<String>, iban: impl Into<String>) -> Self {
        Party {
            name: name.into(),
            iban: iban.into(),
        }
    }
}

/// Checks a value the writer is about to emit as `MaxNText`; used by `validate`.
pub(crate) fn check_text(path: &str, t: &str, max: usize) -> Result<(), XmlError> {
    check_max_text(path, t, max)?;
    if let Some(c) = t.chars().find(|c| {
        !matches!(*c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }) {
        return Err(invalid(path, format!("character U+{:04X} cannot be written in XML", c as u32)));
    }
    Ok(())
}

/// Checks an amount the writer is about to emit; used by `validate`.
pub(crate) fn check_amount(path: &str, a: &Amount) -> Result<(), XmlError> {
    check_currency(&format!("{path}/@Ccy"), &a.currency)?;
    if a.minor_units > MAX_MINOR_UNITS {
        return Err(XmlError::Amount {
            path: path.to_string(),
            value: a.decimal(),
            reason: "has more than 18 digits".into(),
        });
    }
    Ok(())
}

/// The length limits of the schema's text types used here.
pub(crate) const MAX35: usize = 35;
/// `Max105Text`.
pub(crate) const MAX105: usize = 105;
/// `Max140Text`.
pub(crate) const MAX140: usize = 140;
