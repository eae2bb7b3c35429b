//! The one error type of the parsers, naming where in the document the problem is.

/// Why a document was refused. Every variant names the element path (for example
/// `Document/CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf[2]/Amt/InstdAmt`) where the problem was found;
/// repeated elements carry their 1-based position. `Display` is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// The input is larger than [`crate::MAX_DOCUMENT_BYTES`].
    #[error("{path}: document of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Always `Document`.
        path: String,
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The input is not well-formed XML (or nests deeper than the parser accepts).
    #[error("{path}: malformed XML: {detail}")]
    Malformed {
        /// The element being read when the problem was found.
        path: String,
        /// What the XML reader reported.
        detail: String,
    },
    /// A construct the parser never accepts: a DOCTYPE (and with it any entity declaration),
    /// a processing instruction, or a reference to an entity other than the five predefined.
    #[error("{path}: {what} is not accepted")]
    Forbidden {
        /// Where the construct appeared.
        path: String,
        /// What it was.
        what: String,
    },
    /// The root element or an element's namespace is not the one of this message.
    #[error("{path}: expected {expected}, found {found}")]
    WrongDocument {
        /// The element with the wrong name or namespace.
        path: String,
        /// What the message requires there.
        expected: String,
        /// What the document has.
        found: String,
    },
    /// A required element is absent.
    #[error("{path}: required element is missing")]
    Missing {
        /// The path of the missing element.
        path: String,
    },
    /// An element the schema does not allow at this place, out of the schema's order, or
    /// more often than allowed (by the schema or by this crate's narrower profile).
    #[error("{path}: unexpected element: {detail}")]
    Unexpected {
        /// The path of the unexpected element.
        path: String,
        /// Why it is unexpected.
        detail: String,
    },
    /// Text or an attribute value that breaks a rule of its type (pattern, length, code list,
    /// date format), or text where only elements are allowed.
    #[error("{path}: {reason}")]
    Invalid {
        /// The element holding the value.
        path: String,
        /// The broken rule, with the value.
        reason: String,
    },
    /// An amount that is not a non-negative decimal with at most 2 fraction digits and at
    /// most 18 digits, or whose currency is not three upper-case letters.
    #[error("{path}: amount {value:?} {reason}")]
    Amount {
        /// The amount element.
        path: String,
        /// The text found.
        value: String,
        /// The broken rule.
        reason: String,
    },
    /// Totals that disagree with the content: `NbOfTxs` or `CtrlSum` of a pain.001.
    #[error("{path}: {detail}")]
    Inconsistent {
        /// The element whose value disagrees.
        path: String,
        /// The declared and the actual value.
        detail: String,
    },
}
