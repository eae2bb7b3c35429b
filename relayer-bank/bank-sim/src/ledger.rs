//! The bank's books: accounts and a double-entry journal in one redb file.
//!
//! Every movement of money is one [`Txn`] that debits one account and credits another by the
//! same amount, written in the same redb transaction as both balances, its indexes and the
//! notifications it causes, so a kill -9 at any point leaves either all of it or none of it. The
//! sum of all balances is therefore always zero: the bank's equity account goes negative by what
//! it opened customer accounts with, and the external clearing account collects payments to
//! accounts this bank does not keep.
//!
//! Tables:
//! * `accounts`: IBAN → [`Account`] (JSON);
//! * `journal`: seq → [`Txn`] (JSON), seq counting from 1;
//! * `by_ref`: bank reference → seq;
//! * `by_e2e`: end-to-end id → seq of its one final booking (paid or rejected): an end-to-end id
//!   is booked at most once, and a rejected one is never paid afterwards;
//! * `messages`: pain.001 message id → [`MessageRecord`], so a resent message is answered as the
//!   first time and a different message under a used id is refused;
//! * `feed`: seq → [`FeedItem`] (JSON), what the bank notifies (camt.054 bookings of the
//!   custodial account, pain.002 statuses), in the order it happened;
//! * `meta`: counters.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use usage_bank_api::{BankBooking, BookingStatus, Direction};

const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");
const BY_REF: TableDefinition<&str, u64> = TableDefinition::new("by_ref");
const BY_E2E: TableDefinition<&str, u64> = TableDefinition::new("by_e2e");
const MESSAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("messages");
const FEED: TableDefinition<u64, &[u8]> = TableDefinition::new("feed");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_TXN: &str = "next_txn";
const NEXT_FEED: &str = "next_feed";

/// The bank's own account that opening balances come from (it goes negative).
pub const EQUITY: &str = "XX00BANKEQUITY";
/// Where payments to accounts this bank does not keep go.
pub const EXTERNAL: &str = "XX00EXTERNALCLEARING";

/// What an account is for.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// A customer's account (a tenant's, a provider's): never overdrawn.
    Customer,
    /// The platform's custodial account that holds what the chain's balances mirror.
    Custodial,
    /// The bank's equity (opening balances).
    Equity,
    /// Payments to other banks.
    External,
}

/// One account.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its IBAN-like id.
    pub iban: String,
    /// The holder's name.
    pub name: String,
    /// What it is for.
    pub kind: AccountKind,
    /// Booked balance, minor units (negative only for the bank's own accounts).
    pub balance: i128,
}

/// Why a movement was made.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TxnKind {
    /// A new account's opening balance, from the bank's equity.
    Opening,
    /// A customer's own transfer (a tenant paying into the custodial account, say).
    Transfer,
    /// A credit transfer the custodial account's holder instructed (pain.001).
    Instruction {
        /// The pain.001 message it came in.
        message_id: String,
    },
}

/// One journal entry: `amount` from `debit` to `credit`, or a rejected instruction that moved
/// nothing.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// Position in the journal.
    pub seq: u64,
    /// The bank's reference (`BK` and 10 digits of `seq`).
    pub bank_ref: String,
    /// Debited account.
    pub debit: String,
    /// Credited account.
    pub credit: String,
    /// Minor units.
    pub amount: u128,
    /// ISO 4217.
    pub currency: String,
    /// Booked or rejected (nothing moved).
    pub status: BookingStatus,
    /// The instruction's end-to-end id.
    pub end_to_end_id: Option<String>,
    /// Unstructured remittance information.
    pub remittance: Option<String>,
    /// ISO 20022 reason code of a rejection.
    pub reason: Option<String>,
    /// Why it was made.
    pub kind: TxnKind,
    /// When it was booked (Unix milliseconds, the bank's clock).
    pub booked_at_ms: u64,
}

impl Txn {
    /// This entry as a booking of `account`, if it touches it.
    pub fn booking_of(&self, account: &str) -> Option<BankBooking> {
        let direction = if self.credit == account {
            Direction::Credit
        } else if self.debit == account {
            Direction::Debit
        } else {
            return None;
        };
        Some(BankBooking {
            bank_ref: self.bank_ref.clone(),
            direction,
            amount: self.amount,
            currency: self.currency.clone(),
            status: self.status,
            end_to_end_id: self.end_to_end_id.clone(),
            remittance: self.remittance.clone(),
        })
    }
}

/// What the bank notifies, in order.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FeedItem {
    /// A booking of the custodial account (camt.054).
    Booking(Txn),
    /// The outcome of a pain.001 message (pain.002).
    Status(MessageRecord),
}

/// A pain.001 message as the bank answered it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// Its message id.
    pub message_id: String,
    /// Its payment information id (`PmtInfId`).
    pub payment_info_id: String,
    /// SHA-256 of its body, hex: a resend must be the same message.
    pub digest: String,
    /// Per transaction, in message order: end-to-end id and its journal entry.
    pub outcomes: Vec<(String, Txn)>,
}

/// A payment the custodial account's holder instructs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The end-to-end id.
    pub end_to_end_id: String,
    /// The creditor's account.
    pub creditor: String,
    /// The creditor's name, as instructed (a creditor whose account this bank does not keep is
    /// paid through [`EXTERNAL`]).
    pub creditor_name: String,
    /// Minor units.
    pub amount: u128,
    /// ISO 4217.
    pub currency: String,
    /// Unstructured remittance information.
    pub remittance: Option<String>,
    /// Reject it with this reason code instead of paying (fault injection or a gateway rule).
    pub reject: Option<String>,
}

/// Why the ledger refused an operation (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The store failed; the operation did not happen.
    #[error("store: {0}")]
    Store(String),
    /// No such account.
    #[error("no account {0}")]
    NoAccount(String),
    /// The account exists already.
    #[error("account {0} exists already")]
    AccountExists(String),
    /// Not enough money.
    #[error("account {account} holds {balance}, {amount} asked")]
    InsufficientFunds {
        /// The account.
        account: String,
        /// Its balance.
        balance: i128,
        /// The amount.
        amount: u128,
    },
    /// Zero or too large an amount.
    #[error("invalid amount {0}")]
    InvalidAmount(u128),
    /// Only customers' accounts make transfers through this API.
    #[error("account {0} is not a customer's account")]
    NotACustomer(String),
    /// A message id already used for a different message.
    #[error("message id {0} was used for a different message")]
    MessageIdReused(String),
    /// A movement from an account to itself.
    #[error("account {0} cannot pay itself")]
    SameAccount(String),
    /// Another currency than the bank's.
    #[error("currency {got}: this bank keeps {expected}")]
    WrongCurrency {
        /// The bank's.
        expected: String,
        /// Asked.
        got: String,
    },
}

fn store<E: std::fmt::Display>(e: E) -> LedgerError {
    LedgerError::Store(e.to_string())
}

/// Largest amount of one movement (fits the XSD's 18 digits with 2 decimals).
pub const MAX_AMOUNT: u128 = 9_999_999_999_999_999;

/// The bank's books.
pub struct Ledger {
    db: Database,
    currency: String,
    custodial: String,
}

type WriteTxn = redb::WriteTransaction;

impl Ledger {
    /// Opens (or creates) the books at `path`, in `currency`, with the platform's custodial
    /// account `custodial` (created empty if new).
    pub fn open(path: &Path, currency: &str, custodial: &str) -> Result<Ledger, LedgerError> {
        let db = Database::create(path).map_err(store)?;
        let ledger = Ledger {
            db,
            currency: currency.to_string(),
            custodial: custodial.to_string(),
        };
        let w = ledger.db.begin_write().map_err(store)?;
        {
            let mut accounts = w.open_table(ACCOUNTS).map_err(store)?;
            for (iban, name, kind) in [
                (EQUITY, "bank equity", AccountKind::Equity),
                (EXTERNAL, "external clearing", AccountKind::External),
                (
                    custodial,
                    "platform custodial account",
                    AccountKind::Custodial,
                ),
            ] {
                if accounts.get(iban).map_err(store)?.is_none() {
                    let a = Account {
                        iban: iban.to_string(),
                        name: name.to_string(),
                        kind,
                        balance: 0,
                    };
                    accounts.insert(iban, json(&a).as_slice()).map_err(store)?;
                }
            }
            w.open_table(JOURNAL).map_err(store)?;
            w.open_table(BY_REF).map_err(store)?;
            w.open_table(BY_E2E).map_err(store)?;
            w.open_table(MESSAGES).map_err(store)?;
            w.open_table(FEED).map_err(store)?;
            w.open_table(META).map_err(store)?;
        }
        w.commit().map_err(store)?;
        Ok(ledger)
    }

    /// The custodial account's IBAN.
    pub fn custodial(&self) -> &str {
        &self.custodial
    }

    /// The bank's currency.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// Opens a customer's account with `opening` minor units from the bank's equity.
    pub fn open_account(
        &self,
        iban: &str,
        name: &str,
        opening: u128,
        now_ms: u64,
    ) -> Result<Account, LedgerError> {
        if opening > MAX_AMOUNT {
            return Err(LedgerError::InvalidAmount(opening));
        }
        let w = self.db.begin_write().map_err(store)?;
        {
            let mut accounts = w.open_table(ACCOUNTS).map_err(store)?;
            if accounts.get(iban).map_err(store)?.is_some() {
                return Err(LedgerError::AccountExists(iban.to_string()));
            }
            let a = Account {
                iban: iban.to_string(),
                name: name.to_string(),
                kind: AccountKind::Customer,
                balance: 0,
            };
            accounts.insert(iban, json(&a).as_slice()).map_err(store)?;
        }
        if opening > 0 {
            self.book(
                &w,
                EQUITY,
                iban,
                opening,
                None,
                None,
                TxnKind::Opening,
                now_ms,
            )?;
        }
        w.commit().map_err(store)?;
        self.account(iban)?
            .ok_or_else(|| LedgerError::NoAccount(iban.to_string()))
    }

    /// A customer's transfer of `amount` from `from` to `to` (any account this bank keeps), with
    /// `remittance` as its unstructured reference.
    pub fn transfer(
        &self,
        from: &str,
        to: &str,
        amount: u128,
        remittance: Option<String>,
        now_ms: u64,
    ) -> Result<Txn, LedgerError> {
        if amount == 0 || amount > MAX_AMOUNT {
            return Err(LedgerError::InvalidAmount(amount));
        }
        let w = self.db.begin_write().map_err(store)?;
        let source = read_account(&w, from)?;
        if source.kind != AccountKind::Customer {
            return Err(LedgerError::NotACustomer(from.to_string()));
        }
        read_account(&w, to)?;
        let txn = self.book(
            &w,
            from,
            to,
            amount,
            None,
            remittance,
            TxnKind::Transfer,
            now_ms,
        )?;
        w.commit().map_err(store)?;
        Ok(txn)
    }

    /// Executes a pain.001 message's payments from the custodial account: each end-to-end id at
    /// most once (one already booked or rejected is answered with its entry and not executed
    /// again), each either paid or rejected. A message id seen before is answered as then if the
    /// message is the same (`digest`), and refused if it is not.
    pub fn execute(
        &self,
        message_id: &str,
        payment_info_id: &str,
        digest: &str,
        payments: &[Payment],
        now_ms: u64,
    ) -> Result<MessageRecord, LedgerError> {
        let w = self.db.begin_write().map_err(store)?;
        let seen: Option<MessageRecord> = {
            let messages = w.open_table(MESSAGES).map_err(store)?;
            let found = messages.get(message_id).map_err(store)?;
            found.map(|v| parse(v.value())).transpose()?
        };
        if let Some(seen) = seen {
            if seen.digest == digest {
                return Ok(seen);
            }
            return Err(LedgerError::MessageIdReused(message_id.to_string()));
        }
        for p in payments {
            if p.currency != self.currency {
                return Err(LedgerError::WrongCurrency {
                    expected: self.currency.clone(),
                    got: p.currency.clone(),
                });
            }
            if p.amount == 0 || p.amount > MAX_AMOUNT {
                return Err(LedgerError::InvalidAmount(p.amount));
            }
        }
        let mut outcomes = Vec::with_capacity(payments.len());
        for p in payments {
            let existing = {
                let by_e2e = w.open_table(BY_E2E).map_err(store)?;
                let seq = by_e2e
                    .get(p.end_to_end_id.as_str())
                    .map_err(store)?
                    .map(|v| v.value());
                seq
            };
            let txn = match existing {
                Some(seq) => read_txn(&w, seq)?,
                None => {
                    let kind = TxnKind::Instruction {
                        message_id: message_id.to_string(),
                    };
                    let creditor = match read_account(&w, &p.creditor) {
                        Ok(_) => p.creditor.clone(),
                        Err(LedgerError::NoAccount(_)) => EXTERNAL.to_string(),
                        Err(e) => return Err(e),
                    };
                    let balance = read_account(&w, &self.custodial)?.balance;
                    // The bank's own accounts are no creditor: paying the custodial account from
                    // itself would only look like a deposit (AC03: invalid creditor account).
                    let own =
                        [self.custodial.as_str(), EQUITY, EXTERNAL].contains(&p.creditor.as_str());
                    let reject = p.reject.clone().or_else(|| {
                        if own {
                            Some("AC03".to_string())
                        } else {
                            (balance < p.amount as i128).then(|| "AM04".to_string())
                        }
                    });
                    let txn = match reject {
                        Some(reason) => {
                            self.record_rejection(&w, p, &creditor, reason, kind, now_ms)?
                        }
                        None => self.book(
                            &w,
                            &self.custodial,
                            &creditor,
                            p.amount,
                            Some(p.end_to_end_id.clone()),
                            p.remittance.clone(),
                            kind,
                            now_ms,
                        )?,
                    };
                    w.open_table(BY_E2E)
                        .map_err(store)?
                        .insert(p.end_to_end_id.as_str(), txn.seq)
                        .map_err(store)?;
                    txn
                }
            };
            outcomes.push((p.end_to_end_id.clone(), txn));
        }
        let record = MessageRecord {
            message_id: message_id.to_string(),
            payment_info_id: payment_info_id.to_string(),
            digest: digest.to_string(),
            outcomes,
        };
        w.open_table(MESSAGES)
            .map_err(store)?
            .insert(message_id, json(&record).as_slice())
            .map_err(store)?;
        push_feed(&w, &FeedItem::Status(record.clone()))?;
        w.commit().map_err(store)?;
        Ok(record)
    }

    fn record_rejection(
        &self,
        w: &WriteTxn,
        p: &Payment,
        creditor: &str,
        reason: String,
        kind: TxnKind,
        now_ms: u64,
    ) -> Result<Txn, LedgerError> {
        let seq = next(w, NEXT_TXN)?;
        let txn = Txn {
            seq,
            bank_ref: bank_ref(seq),
            debit: self.custodial.clone(),
            credit: creditor.to_string(),
            amount: p.amount,
            currency: self.currency.clone(),
            status: BookingStatus::Rejected,
            end_to_end_id: Some(p.end_to_end_id.clone()),
            remittance: p.remittance.clone(),
            reason: Some(reason),
            kind,
            booked_at_ms: now_ms,
        };
        // Nothing moved, so no camt.054: the message's pain.002 reports the rejection.
        write_txn(w, &txn)?;
        Ok(txn)
    }

    /// Moves `amount` from `debit` to `credit` as one journal entry, both balances and the
    /// notification of a custodial booking written in `w`.
    #[allow(clippy::too_many_arguments)]
    fn book(
        &self,
        w: &WriteTxn,
        debit: &str,
        credit: &str,
        amount: u128,
        end_to_end_id: Option<String>,
        remittance: Option<String>,
        kind: TxnKind,
        now_ms: u64,
    ) -> Result<Txn, LedgerError> {
        if debit == credit {
            return Err(LedgerError::SameAccount(debit.to_string()));
        }
        let mut from = read_account(w, debit)?;
        let mut to = read_account(w, credit)?;
        let amount_i = i128::try_from(amount).map_err(|_| LedgerError::InvalidAmount(amount))?;
        let overdraft_allowed = from.kind == AccountKind::Equity;
        if !overdraft_allowed && from.balance < amount_i {
            return Err(LedgerError::InsufficientFunds {
                account: debit.to_string(),
                balance: from.balance,
                amount,
            });
        }
        from.balance -= amount_i;
        to.balance += amount_i;
        let seq = next(w, NEXT_TXN)?;
        let txn = Txn {
            seq,
            bank_ref: bank_ref(seq),
            debit: debit.to_string(),
            credit: credit.to_string(),
            amount,
            currency: self.currency.clone(),
            status: BookingStatus::Booked,
            end_to_end_id,
            remittance,
            reason: None,
            kind,
            booked_at_ms: now_ms,
        };
        {
            let mut accounts = w.open_table(ACCOUNTS).map_err(store)?;
            accounts
                .insert(debit, json(&from).as_slice())
                .map_err(store)?;
            accounts
                .insert(credit, json(&to).as_slice())
                .map_err(store)?;
        }
        write_txn(w, &txn)?;
        if debit == self.custodial || credit == self.custodial {
            push_feed(w, &FeedItem::Booking(txn.clone()))?;
        }
        Ok(txn)
    }

    /// The pain.001 message recorded under `message_id`, if any.
    pub fn message(&self, message_id: &str) -> Result<Option<MessageRecord>, LedgerError> {
        let r = self.db.begin_read().map_err(store)?;
        let t = r.open_table(MESSAGES).map_err(store)?;
        let found = t.get(message_id).map_err(store)?;
        found.map(|v| parse(v.value())).transpose()
    }

    /// An account.
    pub fn account(&self, iban: &str) -> Result<Option<Account>, LedgerError> {
        let r = self.db.begin_read().map_err(store)?;
        let t = r.open_table(ACCOUNTS).map_err(store)?;
        t.get(iban)
            .map_err(store)?
            .map(|v| parse(v.value()))
            .transpose()
    }

    /// Every account, by IBAN.
    pub fn accounts(&self) -> Result<Vec<Account>, LedgerError> {
        let r = self.db.begin_read().map_err(store)?;
        let t = r.open_table(ACCOUNTS).map_err(store)?;
        let mut out = vec![];
        for row in t.iter().map_err(store)? {
            let (_, v) = row.map_err(store)?;
            out.push(parse(v.value())?);
        }
        Ok(out)
    }

    /// The journal entry with bank reference `bank_ref`.
    pub fn by_ref(&self, bank_ref: &str) -> Result<Option<Txn>, LedgerError> {
        let r = self.db.begin_read().map_err(store)?;
        let refs = r.open_table(BY_REF).map_err(store)?;
        let Some(seq) = refs.get(bank_ref).map_err(store)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let journal = r.open_table(JOURNAL).map_err(store)?;
        journal
            .get(seq)
            .map_err(store)?
            .map(|v| parse(v.value()))
            .transpose()
    }

    /// The journal entry of end-to-end id `e2e` (its one booking or rejection), if any.
    pub fn by_end_to_end_id(&self, e2e: &str) -> Result<Option<Txn>, LedgerError> {
        let r = self.db.begin_read().map_err(store)?;
        let index = r.open_table(BY_E2E).map_err(store)?;
        let Some(seq) = index.get(e2e).map_err(store)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let journal = r.open_table(JOURNAL).map_err(store)?;
        journal
            .get(seq)
            .map_err(store)?
            .map(|v| parse(v.value()))
            .transpose()
    }

    /// Up to `limit` notifications after feed position `after`, with their positions.
    pub fn feed(&self, after: u64, limit: usize) -> Result<Vec<(u64, FeedItem)>, LedgerError> {
        let r = self.db.begin_read().map_err(store)?;
        let t = r.open_table(FEED).map_err(store)?;
        let mut out = vec![];
        for row in t.range(after.saturating_add(1)..).map_err(store)? {
            let (k, v) = row.map_err(store)?;
            out.push((k.value(), parse(v.value())?));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The whole journal, oldest first.
    pub fn journal(&self) -> Result<Vec<Txn>, LedgerError> {
        let r = self.db.begin_read().map_err(store)?;
        let t = r.open_table(JOURNAL).map_err(store)?;
        let mut out = vec![];
        for row in t.iter().map_err(store)? {
            let (_, v) = row.map_err(store)?;
            out.push(parse(v.value())?);
        }
        Ok(out)
    }
}

fn bank_ref(seq: u64) -> String {
    format!("BK{seq:010}")
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, LedgerError> {
    serde_json::from_slice(bytes).map_err(|e| LedgerError::Store(format!("corrupt record: {e}")))
}

fn next(w: &WriteTxn, counter: &str) -> Result<u64, LedgerError> {
    let mut meta = w.open_table(META).map_err(store)?;
    let n = meta
        .get(counter)
        .map_err(store)?
        .map(|v| v.value())
        .unwrap_or(0)
        + 1;
    meta.insert(counter, n).map_err(store)?;
    Ok(n)
}

fn read_account(w: &WriteTxn, iban: &str) -> Result<Account, LedgerError> {
    let t = w.open_table(ACCOUNTS).map_err(store)?;
    let v = t
        .get(iban)
        .map_err(store)?
        .ok_or_else(|| LedgerError::NoAccount(iban.to_string()))?;
    parse(v.value())
}

fn read_txn(w: &WriteTxn, seq: u64) -> Result<Txn, LedgerError> {
    let t = w.open_table(JOURNAL).map_err(store)?;
    let v = t
        .get(seq)
        .map_err(store)?
        .ok_or_else(|| LedgerError::Store(format!("journal entry {seq} missing")))?;
    parse(v.value())
}

fn write_txn(w: &WriteTxn, txn: &Txn) -> Result<(), LedgerError> {
    w.open_table(JOURNAL)
        .map_err(store)?
        .insert(txn.seq, json(txn).as_slice())
        .map_err(store)?;
    w.open_table(BY_REF)
        .map_err(store)?
        .insert(txn.bank_ref.as_str(), txn.seq)
        .map_err(store)?;
    Ok(())
}

fn push_feed(w: &WriteTxn, item: &FeedItem) -> Result<u64, LedgerError> {
    let seq = next(w, NEXT_FEED)?;
    w.open_table(FEED)
        .map_err(store)?
        .insert(seq, json(item).as_slice())
        .map_err(store)?;
    Ok(seq)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const CUSTODIAL: &str = "CN00CUSTODIAL0001";

    fn open(dir: &tempfile::TempDir) -> Ledger {
        Ledger::open(&dir.path().join("bank.redb"), "CNY", CUSTODIAL).unwrap()
    }

    fn pay(e2e: &str, amount: u128) -> Payment {
        Payment {
            end_to_end_id: e2e.into(),
            creditor: "CN00PROVIDER0001".into(),
            creditor_name: "provider".into(),
            amount,
            currency: "CNY".into(),
            remittance: None,
            reject: None,
        }
    }

    fn total(l: &Ledger) -> i128 {
        l.accounts().unwrap().iter().map(|a| a.balance).sum()
    }

    #[test]
    fn every_movement_debits_one_account_and_credits_another_so_the_books_sum_to_zero() {
        let dir = tempfile::tempdir().unwrap();
        let l = open(&dir);
        l.open_account("CN00TENANT0001", "tenant", 10_000, 1)
            .unwrap();
        l.open_account("CN00PROVIDER0001", "provider", 0, 1)
            .unwrap();
        let t = l
            .transfer("CN00TENANT0001", CUSTODIAL, 4_000, Some("addr".into()), 2)
            .unwrap();
        assert_eq!(t.bank_ref, "BK0000000002");
        l.execute("M1", "P", "d1", &[pay("E1", 1_500)], 3).unwrap();
        assert_eq!(l.account(CUSTODIAL).unwrap().unwrap().balance, 2_500);
        assert_eq!(
            l.account("CN00PROVIDER0001").unwrap().unwrap().balance,
            1_500
        );
        assert_eq!(l.account("CN00TENANT0001").unwrap().unwrap().balance, 6_000);
        assert_eq!(l.account(EQUITY).unwrap().unwrap().balance, -10_000);
        assert_eq!(total(&l), 0);
        assert!(matches!(
            l.transfer("CN00TENANT0001", CUSTODIAL, 6_001, None, 4),
            Err(LedgerError::InsufficientFunds { .. })
        ));
        assert!(matches!(
            l.transfer(CUSTODIAL, "CN00TENANT0001", 1, None, 4),
            Err(LedgerError::NotACustomer(_))
        ));
        // Paying oneself would count the money twice.
        assert!(matches!(
            l.transfer("CN00TENANT0001", "CN00TENANT0001", 1, None, 4),
            Err(LedgerError::SameAccount(_))
        ));
        assert_eq!(total(&l), 0);
    }

    #[test]
    fn an_end_to_end_id_is_paid_at_most_once_and_a_rejected_one_never_afterwards() {
        let dir = tempfile::tempdir().unwrap();
        let l = open(&dir);
        l.open_account("CN00TENANT0001", "tenant", 10_000, 1)
            .unwrap();
        l.transfer("CN00TENANT0001", CUSTODIAL, 10_000, None, 2)
            .unwrap();

        let first = l.execute("M1", "P", "d1", &[pay("E1", 1_000)], 3).unwrap();
        // The same message again: the same answer, nothing paid twice.
        assert_eq!(
            l.execute("M1", "P", "d1", &[pay("E1", 1_000)], 4).unwrap(),
            first
        );
        // Another message with the same end-to-end id: answered with the first booking.
        let again = l.execute("M2", "P", "d2", &[pay("E1", 1_000)], 5).unwrap();
        assert_eq!(again.outcomes[0].1, first.outcomes[0].1);
        assert_eq!(l.account(CUSTODIAL).unwrap().unwrap().balance, 9_000);
        // A used message id with other content is refused.
        assert!(matches!(
            l.execute("M1", "P", "other", &[pay("E9", 1)], 6),
            Err(LedgerError::MessageIdReused(_))
        ));

        let mut rejected = pay("E2", 500);
        rejected.reject = Some("NARR".into());
        let r = l.execute("M3", "P", "d3", &[rejected], 7).unwrap();
        assert_eq!(r.outcomes[0].1.status, BookingStatus::Rejected);
        // Resent without the fault: still rejected, still not paid.
        let r2 = l.execute("M4", "P", "d4", &[pay("E2", 500)], 8).unwrap();
        assert_eq!(r2.outcomes[0].1, r.outcomes[0].1);
        assert_eq!(l.account(CUSTODIAL).unwrap().unwrap().balance, 9_000);

        // The bank's own accounts are no creditor: rejected with AC03, nothing moved.
        let mut own = pay("E4", 100);
        own.creditor = CUSTODIAL.into();
        let r = l.execute("M6", "P", "d6", &[own], 9).unwrap();
        assert_eq!(r.outcomes[0].1.reason.as_deref(), Some("AC03"));
        assert_eq!(l.account(CUSTODIAL).unwrap().unwrap().balance, 9_000);
        assert_eq!(l.message("M6").unwrap().unwrap(), r);
        assert_eq!(l.message("M99").unwrap(), None);

        // Too little in the custodial account: rejected with AM04.
        let r = l
            .execute("M5", "P", "d5", &[pay("E3", 1_000_000)], 9)
            .unwrap();
        assert_eq!(r.outcomes[0].1.reason.as_deref(), Some("AM04"));
        assert_eq!(total(&l), 0);
    }

    #[test]
    fn the_books_survive_a_reopen_with_every_index() {
        let dir = tempfile::tempdir().unwrap();
        {
            let l = open(&dir);
            l.open_account("CN00TENANT0001", "tenant", 10_000, 1)
                .unwrap();
            l.transfer("CN00TENANT0001", CUSTODIAL, 3_000, Some("x".into()), 2)
                .unwrap();
            l.execute("M1", "P", "d1", &[pay("E1", 1_000)], 3).unwrap();
        }
        let l = open(&dir);
        assert_eq!(l.account(CUSTODIAL).unwrap().unwrap().balance, 2_000);
        let paid = l.by_end_to_end_id("E1").unwrap().unwrap();
        assert_eq!(l.by_ref(&paid.bank_ref).unwrap().unwrap(), paid);
        // Notifications: the deposit's credit, the payment's debit, then the pain.002 status.
        let feed = l.feed(0, 10).unwrap();
        assert_eq!(feed.len(), 3);
        assert!(matches!(&feed[0].1, FeedItem::Booking(t) if t.credit == CUSTODIAL));
        assert!(matches!(&feed[1].1, FeedItem::Booking(t) if t.debit == CUSTODIAL));
        assert!(matches!(&feed[2].1, FeedItem::Status(m) if m.message_id == "M1"));
        assert_eq!(l.feed(2, 10).unwrap().len(), 1);
        assert_eq!(l.journal().unwrap().len(), 3);
        assert_eq!(total(&l), 0);
    }
}
