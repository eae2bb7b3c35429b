//! The relayer's durable state (redb), everything it needs to go on after a crash at any step:
//!
//! * `meta`: `chain_cursor` (the height up to which requests were discovered) and `feed_cursor`
//!   (the last bank notification handled);
//! * `open`: (kind, request id) of every settlement (0) or withdrawal (1) discovered and not yet
//!   settled on chain;
//! * `approvals`: end-to-end id → the committee's approval the relayer collected (JSON), kept
//!   before it is submitted, so an instruction can be sent to the bank again without it;
//! * `parked`: bank reference → a credit to the custodial account whose reference names no chain
//!   address, kept for an operator.
//!
//! Every step is idempotent on its own (the chain consumes vouchers once, the bank pays an
//! end-to-end id once), so the store holds positions, never money.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use usage_common::ThresholdSignature;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const OPEN: TableDefinition<(u8, u64), ()> = TableDefinition::new("open");
const APPROVALS: TableDefinition<&str, &[u8]> = TableDefinition::new("approvals");
const PARKED: TableDefinition<&str, &[u8]> = TableDefinition::new("parked");

/// Which contract a request is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// C3.
    Settlement,
    /// C5.
    Withdrawal,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::Settlement => 0,
            Kind::Withdrawal => 1,
        }
    }

    fn from_code(c: u8) -> Option<Kind> {
        match c {
            0 => Some(Kind::Settlement),
            1 => Some(Kind::Withdrawal),
            _ => None,
        }
    }
}

/// A credit whose reference names no chain address.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    /// The bank's reference.
    pub bank_ref: String,
    /// Minor units.
    pub amount: u128,
    /// The reference as received.
    pub remittance: Option<String>,
    /// Why it was parked.
    pub reason: String,
}

/// The store failed.
#[derive(Debug, thiserror::Error)]
#[error("relayer store: {0}")]
pub struct StoreError(String);

fn e<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError(e.to_string())
}

/// The relayer's durable state.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Database::create(path).map_err(e)?;
        let w = db.begin_write().map_err(e)?;
        w.open_table(META).map_err(e)?;
        w.open_table(OPEN).map_err(e)?;
        w.open_table(APPROVALS).map_err(e)?;
        w.open_table(PARKED).map_err(e)?;
        w.commit().map_err(e)?;
        Ok(Store { db })
    }

    /// A cursor (0 if never set).
    pub fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(META).map_err(e)?;
        Ok(t.get(name).map_err(e)?.map(|v| v.value()).unwrap_or(0))
    }

    /// Sets a cursor.
    pub fn set_cursor(&self, name: &str, value: u64) -> Result<(), StoreError> {
        let w = self.db.begin_write().map_err(e)?;
        w.open_table(META)
            .map_err(e)?
            .insert(name, value)
            .map_err(e)?;
        w.commit().map_err(e)
    }

    /// Records requests discovered on chain, and then the cursor they were discovered up to,
    /// in one transaction.
    pub fn discovered(
        &self,
        requests: &[(Kind, u64)],
        cursor: &str,
        height: u64,
    ) -> Result<(), StoreError> {
        let w = self.db.begin_write().map_err(e)?;
        {
            let mut open = w.open_table(OPEN).map_err(e)?;
            for (kind, id) in requests {
                open.insert((kind.code(), *id), ()).map_err(e)?;
            }
            let mut meta = w.open_table(META).map_err(e)?;
            let old = meta.get(cursor).map_err(e)?.map(|v| v.value()).unwrap_or(0);
            meta.insert(cursor, old.max(height)).map_err(e)?;
        }
        w.commit().map_err(e)
    }

    /// The open requests, in order.
    pub fn open_requests(&self) -> Result<Vec<(Kind, u64)>, StoreError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(OPEN).map_err(e)?;
        let mut out = vec![];
        for row in t.iter().map_err(e)? {
            let (k, _) = row.map_err(e)?;
            let (code, id) = k.value();
            if let Some(kind) = Kind::from_code(code) {
                out.push((kind, id));
            }
        }
        Ok(out)
    }

    /// Forgets a request settled on chain.
    pub fn close(&self, kind: Kind, id: u64) -> Result<(), StoreError> {
        let w = self.db.begin_write().map_err(e)?;
        w.open_table(OPEN)
            .map_err(e)?
            .remove((kind.code(), id))
            .map_err(e)?;
        w.commit().map_err(e)
    }

    /// Keeps the committee's approval of an instruction.
    pub fn put_approval(&self, e2e: &str, sig: &ThresholdSignature) -> Result<(), StoreError> {
        let w = self.db.begin_write().map_err(e)?;
        let bytes = serde_json::to_vec(sig).map_err(e)?;
        w.open_table(APPROVALS)
            .map_err(e)?
            .insert(e2e, bytes.as_slice())
            .map_err(e)?;
        w.commit().map_err(e)
    }

    /// The kept approval of an instruction.
    pub fn approval(&self, e2e: &str) -> Result<Option<ThresholdSignature>, StoreError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(APPROVALS).map_err(e)?;
        let found = t.get(e2e).map_err(e)?;
        found
            .map(|v| serde_json::from_slice(v.value()).map_err(e))
            .transpose()
    }

    /// Parks a credit (the feed cursor moves once its whole notification is handled).
    pub fn park(&self, p: &Parked) -> Result<(), StoreError> {
        let w = self.db.begin_write().map_err(e)?;
        {
            let bytes = serde_json::to_vec(p).map_err(e)?;
            w.open_table(PARKED)
                .map_err(e)?
                .insert(p.bank_ref.as_str(), bytes.as_slice())
                .map_err(e)?;
        }
        w.commit().map_err(e)
    }

    /// Forgets a kept approval (it was not accepted on chain).
    pub fn drop_approval(&self, e2e: &str) -> Result<(), StoreError> {
        let w = self.db.begin_write().map_err(e)?;
        w.open_table(APPROVALS).map_err(e)?.remove(e2e).map_err(e)?;
        w.commit().map_err(e)
    }

    /// Every parked credit.
    pub fn parked(&self) -> Result<Vec<Parked>, StoreError> {
        let r = self.db.begin_read().map_err(e)?;
        let t = r.open_table(PARKED).map_err(e)?;
        let mut out = vec![];
        for row in t.iter().map_err(e)? {
            let (_, v) = row.map_err(e)?;
            out.push(serde_json::from_slice(v.value()).map_err(e)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn positions_open_requests_approvals_and_parked_credits_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relayer.redb");
        let sig = ThresholdSignature {
            epoch: 1,
            signers: vec![7].into(),
            signature: vec![1; 96].into(),
        };
        {
            let s = Store::open(&path).unwrap();
            s.discovered(&[(Kind::Withdrawal, 2), (Kind::Settlement, 1)], "chain", 10)
                .unwrap();
            s.discovered(&[(Kind::Withdrawal, 2)], "chain", 4).unwrap();
            s.put_approval("E", &sig).unwrap();
            s.park(&Parked {
                bank_ref: "BK1".into(),
                amount: 5,
                remittance: Some("nobody".into()),
                reason: "not an address".into(),
            })
            .unwrap();
            s.set_cursor("feed", 3).unwrap();
            s.put_approval("G", &sig).unwrap();
            s.drop_approval("G").unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.cursor("chain").unwrap(), 10, "a cursor never goes back");
        assert_eq!(s.cursor("feed").unwrap(), 3);
        assert_eq!(
            s.open_requests().unwrap(),
            [(Kind::Settlement, 1), (Kind::Withdrawal, 2)]
        );
        s.close(Kind::Settlement, 1).unwrap();
        assert_eq!(s.open_requests().unwrap(), [(Kind::Withdrawal, 2)]);
        assert_eq!(s.approval("E").unwrap(), Some(sig));
        assert_eq!(s.approval("F").unwrap(), None);
        assert_eq!(s.approval("G").unwrap(), None);
        assert_eq!(s.parked().unwrap()[0].bank_ref, "BK1");
    }
}
