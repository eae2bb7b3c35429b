//! The canonical binary encoding used for everything the committee signs and for usage records.
//!
//! Layout rules (ADR 001): integers are fixed-width big-endian, byte strings and UTF-8 strings are
//! prefixed by their length as a `u32` big-endian, sequences by their element count as a `u32`,
//! optional values by a `0`/`1` byte. There is no padding and no self-description: both sides know
//! the type they encode. Decoding is strict: trailing bytes, short input and invalid UTF-8 are errors.

use thiserror::Error;

/// Why a byte string could not be decoded.
#[derive(Error, Debug, PartialEq, Eq, Clone)]
pub enum DecodeError {
    #[error("unexpected end of input at offset {offset} (needed {needed} more bytes)")]
    UnexpectedEnd { offset: usize, needed: usize },
    #[error("{remaining} trailing bytes after the value")]
    TrailingBytes { remaining: usize },
    #[error("invalid utf-8 in string at offset {offset}")]
    InvalidUtf8 { offset: usize },
    #[error("invalid value {value} for {what}")]
    InvalidValue { what: &'static str, value: u64 },
    #[error("{what} is {len} bytes, longer than the limit of {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
}

/// Appends canonical encodings to a byte buffer.
#[derive(Default, Debug, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u128(&mut self, v: u128) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Fixed-size bytes with no length prefix (hashes, keys whose size the type fixes).
    pub fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// Length-prefixed bytes.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        // Lengths above u32::MAX cannot occur for anything held in contract memory; saturating keeps
        // the encoder total without a panic path, and a decoder would refuse such a value anyway.
        let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
        self.u32(len);
        self.buf.extend_from_slice(v);
        self
    }

    /// Length-prefixed UTF-8.
    pub fn str(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }

    /// Element count of a sequence that follows.
    pub fn count(&mut self, n: usize) -> &mut Self {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads canonical encodings from a byte slice.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn fixed(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.pos,
                needed: n - self.remaining(),
            });
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.fixed(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub fn u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_be_bytes(self.array()?))
    }

    pub fn hash(&mut self) -> Result<[u8; 32], DecodeError> {
        self.array()
    }

    /// Length-prefixed bytes, refusing lengths above `max`.
    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        self.fixed(len)
    }

    /// Length-prefixed UTF-8, refusing lengths above `max`.
    pub fn str(&mut self, what: &'static str, max: usize) -> Result<&'a str, DecodeError> {
        let offset = self.pos;
        let raw = self.bytes(what, max)?;
        core::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8 { offset })
    }

    /// Element count, refusing counts above `max`.
    pub fn count(&mut self, what: &'static str, max: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(DecodeError::TooLong { what, len: n, max });
        }
        Ok(n)
    }

    /// Fails unless every byte was consumed.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            remaining => Err(DecodeError::TrailingBytes { remaining }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian_and_strings_length_prefixed() {
        let mut e = Encoder::new();
        e.u8(1).u16(0x0203).u32(4).u64(5).str("ab");
        assert_eq!(
            e.finish(),
            vec![1, 2, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, b'a', b'b']
        );
    }

    #[test]
    fn decoding_round_trips_and_refuses_trailing_or_short_input() {
        let mut e = Encoder::new();
        e.u64(7).str("tenant").u128(9);
        let bytes = e.finish();
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.u64(), Ok(7));
        assert_eq!(d.str("s", 64), Ok("tenant"));
        assert_eq!(d.u128(), Ok(9));
        assert_eq!(d.finish(), Ok(()));

        let mut d = Decoder::new(&bytes[..10]);
        d.u64().unwrap();
        assert!(matches!(
            d.str("s", 64),
            Err(DecodeError::UnexpectedEnd { .. })
        ));

        let mut longer = bytes.clone();
        longer.push(0);
        let mut d = Decoder::new(&longer);
        d.u64().unwrap();
        d.str("s", 64).unwrap();
        d.u128().unwrap();
        assert_eq!(d.finish(), Err(DecodeError::TrailingBytes { remaining: 1 }));
    }

    #[test]
    fn length_limits_and_utf8_are_enforced() {
        let mut e = Encoder::new();
        e.str("abcdef");
        let bytes = e.finish();
        assert_eq!(
            Decoder::new(&bytes).str("terminal id", 3),
            Err(DecodeError::TooLong {
                what: "terminal id",
                len: 6,
                max: 3
            })
        );
        let bad = [0, 0, 0, 1, 0xff];
        assert_eq!(
            Decoder::new(&bad).str("s", 8),
            Err(DecodeError::InvalidUtf8 { offset: 0 })
        );
    }
}
