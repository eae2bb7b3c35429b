//! The canonical binary form of every committee-signed message.
//!
//! Every signed message starts with the same header, so nothing signed for one purpose, chain,
//! contract or committee is ever accepted for another:
//!
//! ```text
//! u8   version (= 1)
//! str  domain tag  "usagechain/v1/<kind>"
//! str  chain id
//! str  address of the contract that verifies it
//! u64  committee epoch
//! ...  body, per kind (below)
//! ```
//!
//! `str` is a u32 big-endian length then UTF-8; integers are big-endian; `u128` amounts are 16 bytes.
//! Test vectors for every kind are in `test-vectors/payloads.json` and checked by the tests.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{HexBinary, Uint128};

use crate::codec::Encoder;
use crate::record::Totals;

pub const PAYLOAD_VERSION: u8 = 1;

/// What a signed message is for; each kind has its own domain tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    UsageBatch,
    CommitteeRotation,
    SettlementApproval,
    SettlementVoucher,
    DepositVoucher,
    WithdrawalApproval,
    WithdrawalVoucher,
    DisputeResolution,
}

impl PayloadKind {
    pub const fn tag(self) -> &'static str {
        match self {
            PayloadKind::UsageBatch => "usagechain/v1/usage-batch",
            PayloadKind::CommitteeRotation => "usagechain/v1/committee-rotation",
            PayloadKind::SettlementApproval => "usagechain/v1/settlement-approval",
            PayloadKind::SettlementVoucher => "usagechain/v1/settlement-voucher",
            PayloadKind::DepositVoucher => "usagechain/v1/deposit-voucher",
            PayloadKind::WithdrawalApproval => "usagechain/v1/withdrawal-approval",
            PayloadKind::WithdrawalVoucher => "usagechain/v1/withdrawal-voucher",
            PayloadKind::DisputeResolution => "usagechain/v1/dispute-resolution",
        }
    }
}

/// Where a signed message is valid: chain, verifying contract and committee epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub chain_id: String,
    pub contract: String,
    pub epoch: u64,
}

impl Domain {
    pub fn new(chain_id: impl Into<String>, contract: impl Into<String>, epoch: u64) -> Self {
        Domain {
            chain_id: chain_id.into(),
            contract: contract.into(),
            epoch,
        }
    }
}

/// A message body the committee signs.
pub trait SignedPayload {
    const KIND: PayloadKind;

    /// Appends the kind-specific body.
    fn encode_body(&self, e: &mut Encoder);

    /// The exact bytes the committee signs for this body in `domain`.
    fn signing_bytes(&self, domain: &Domain) -> Vec<u8> {
        let mut e = Encoder::with_capacity(256);
        e.u8(PAYLOAD_VERSION)
            .str(Self::KIND.tag())
            .str(&domain.chain_id)
            .str(&domain.contract)
            .u64(domain.epoch);
        self.encode_body(&mut e);
        e.finish()
    }
}

/// The digest of a usage batch. Body: `root (32 bytes) ‖ u32 record count`.
#[cw_serde]
#[derive(Eq)]
pub struct UsageBatchDigest {
    /// RFC 6962 Merkle root over the batch's records in order.
    pub root: HexBinary,
    pub records: u32,
}

impl UsageBatchDigest {
    /// The digest of `records` in this order: the RFC 6962 root over each record's
    /// `leaf_hash(to_bytes())`, and their count. `None` for no records (no batch is empty).
    pub fn of(records: &[crate::record::UsageRecord]) -> Option<Self> {
        let leaves: Vec<crate::merkle::Hash> = records
            .iter()
            .map(|r| crate::merkle::leaf_hash(&r.to_bytes()))
            .collect();
        Some(UsageBatchDigest {
            root: HexBinary::from(crate::merkle::root(&leaves)?),
            records: u32::try_from(records.len()).ok()?,
        })
    }
}

impl SignedPayload for UsageBatchDigest {
    const KIND: PayloadKind = PayloadKind::UsageBatch;
    fn encode_body(&self, e: &mut Encoder) {
        e.fixed(self.root.as_slice()).u32(self.records);
    }
}

/// A committee member as proposed in a rotation or at instantiation.
#[cw_serde]
#[derive(Eq)]
pub struct MemberKey {
    /// Compressed G1 public key, 48 bytes.
    pub pubkey: HexBinary,
    /// Proof of possession: the member's signature over its own compressed key under the PoP DST.
    pub pop: HexBinary,
}

/// The next committee. Body: `u64 new epoch ‖ u32 threshold ‖ u32 n ‖ n × 48-byte key`.
/// Proofs of possession are checked separately and are not part of the signed body.
#[cw_serde]
#[derive(Eq)]
pub struct CommitteeRotation {
    pub new_epoch: u64,
    pub threshold: u32,
    pub members: Vec<MemberKey>,
}

impl SignedPayload for CommitteeRotation {
    const KIND: PayloadKind = PayloadKind::CommitteeRotation;
    fn encode_body(&self, e: &mut Encoder) {
        e.u64(self.new_epoch)
            .u32(self.threshold)
            .count(self.members.len());
        for m in &self.members {
            e.fixed(m.pubkey.as_slice());
        }
    }
}

/// The committee's approval of a settlement payment instruction. Body:
/// `u64 id ‖ str tenant ‖ str provider ‖ u128 amount ‖ str currency ‖ str payee account ‖ str end-to-end id`.
#[cw_serde]
#[derive(Eq)]
pub struct SettlementApproval {
    pub settlement_id: u64,
    pub tenant: String,
    pub provider: String,
    pub amount: Uint128,
    pub currency: String,
    pub payee_account: String,
    pub end_to_end_id: String,
}

impl SignedPayload for SettlementApproval {
    const KIND: PayloadKind = PayloadKind::SettlementApproval;
    fn encode_body(&self, e: &mut Encoder) {
        e.u64(self.settlement_id)
            .str(&self.tenant)
            .str(&self.provider)
            .u128(self.amount.u128())
            .str(&self.currency)
            .str(&self.payee_account)
            .str(&self.end_to_end_id);
    }
}

/// What the bank did with an instructed payment.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum BankOutcome {
    /// The payment was booked: the money left the custodial account.
    Booked,
    /// The bank rejected the payment: nothing left the custodial account.
    Rejected,
}

impl BankOutcome {
    fn code(self) -> u8 {
        match self {
            BankOutcome::Booked => 1,
            BankOutcome::Rejected => 2,
        }
    }
}

/// The bank's booking of a settlement payment, confirmed by the committee. Body:
/// `u64 id ‖ str end-to-end id ‖ str bank reference ‖ u8 outcome (1 booked, 2 rejected) ‖ u128 amount`.
#[cw_serde]
#[derive(Eq)]
pub struct SettlementVoucher {
    pub settlement_id: u64,
    pub end_to_end_id: String,
    /// The bank's own reference of the booking; consumed once.
    pub bank_ref: String,
    pub outcome: BankOutcome,
    pub amount: Uint128,
}

impl SignedPayload for SettlementVoucher {
    const KIND: PayloadKind = PayloadKind::SettlementVoucher;
    fn encode_body(&self, e: &mut Encoder) {
        e.u64(self.settlement_id)
            .str(&self.end_to_end_id)
            .str(&self.bank_ref)
            .u8(self.outcome.code())
            .u128(self.amount.u128());
    }
}

/// A credit to the custodial account, confirmed by the committee. Body:
/// `str bank reference ‖ str beneficiary address ‖ u128 amount ‖ str currency`.
#[cw_serde]
#[derive(Eq)]
pub struct DepositVoucher {
    /// The bank's reference of the credit notification; credited once.
    pub bank_ref: String,
    /// Chain address named as the remittance reference.
    pub beneficiary: String,
    pub amount: Uint128,
    pub currency: String,
}

impl SignedPayload for DepositVoucher {
    const KIND: PayloadKind = PayloadKind::DepositVoucher;
    fn encode_body(&self, e: &mut Encoder) {
        e.str(&self.bank_ref)
            .str(&self.beneficiary)
            .u128(self.amount.u128())
            .str(&self.currency);
    }
}

/// The committee's approval of a withdrawal payment instruction. Body:
/// `u64 id ‖ str owner ‖ u128 amount ‖ str currency ‖ str beneficiary account ‖ str end-to-end id`.
#[cw_serde]
#[derive(Eq)]
pub struct WithdrawalApproval {
    pub withdrawal_id: u64,
    pub owner: String,
    pub amount: Uint128,
    pub currency: String,
    pub beneficiary_account: String,
    pub end_to_end_id: String,
}

impl SignedPayload for WithdrawalApproval {
    const KIND: PayloadKind = PayloadKind::WithdrawalApproval;
    fn encode_body(&self, e: &mut Encoder) {
        e.u64(self.withdrawal_id)
            .str(&self.owner)
            .u128(self.amount.u128())
            .str(&self.currency)
            .str(&self.beneficiary_account)
            .str(&self.end_to_end_id);
    }
}

/// The bank's booking of a withdrawal payment, confirmed by the committee. Body as for
/// [`SettlementVoucher`] with the withdrawal id.
#[cw_serde]
#[derive(Eq)]
pub struct WithdrawalVoucher {
    pub withdrawal_id: u64,
    pub end_to_end_id: String,
    pub bank_ref: String,
    pub outcome: BankOutcome,
    pub amount: Uint128,
}

impl SignedPayload for WithdrawalVoucher {
    const KIND: PayloadKind = PayloadKind::WithdrawalVoucher;
    fn encode_body(&self, e: &mut Encoder) {
        e.u64(self.withdrawal_id)
            .str(&self.end_to_end_id)
            .str(&self.bank_ref)
            .u8(self.outcome.code())
            .u128(self.amount.u128());
    }
}

/// How the committee closed a dispute.
#[cw_serde]
#[derive(Eq)]
pub enum DisputeOutcome {
    /// The proven totals stand.
    Upheld,
    /// The totals to bill instead.
    Adjusted { totals: Totals },
}

/// The committee's resolution of a disputed period, bound to the dispute by its opening time.
/// Body: `str provider ‖ str tenant ‖ u64 period ‖ u64 opened_at ‖ u8 outcome (1 upheld,
/// 2 adjusted) [‖ totals]`,
/// totals as `u64 records ‖ 10 × u128` in [`crate::record::Metric::ALL`] order.
#[cw_serde]
#[derive(Eq)]
pub struct DisputeResolution {
    pub provider: String,
    pub tenant: String,
    pub period_start: u64,
    /// Block time the dispute was opened (a resolution of one dispute cannot close another).
    pub opened_at: u64,
    pub outcome: DisputeOutcome,
}

impl SignedPayload for DisputeResolution {
    const KIND: PayloadKind = PayloadKind::DisputeResolution;
    fn encode_body(&self, e: &mut Encoder) {
        e.str(&self.provider)
            .str(&self.tenant)
            .u64(self.period_start)
            .u64(self.opened_at);
        match &self.outcome {
            DisputeOutcome::Upheld => {
                e.u8(1);
            }
            DisputeOutcome::Adjusted { totals } => {
                e.u8(2);
                totals.encode(e);
            }
        }
    }
}

/// The end-to-end id of a settlement's bank instruction, derived from chain state only, so a bank
/// that sees an instruction twice pays once: `USG-S-<deployment>-<id>` (35 characters, ISO
/// 20022's `Max35Text`), where `<deployment>` ([`deployment_tag`]) names the chain and the
/// contract, so the ids of two deployments (another chain, a redeployed contract) never collide
/// at one bank.
pub fn settlement_end_to_end_id(chain_id: &str, contract: &str, settlement_id: u64) -> String {
    end_to_end_id('S', chain_id, contract, settlement_id)
}

/// The end-to-end id of a withdrawal's bank instruction: `USG-W-<deployment>-<id>`, as
/// [`settlement_end_to_end_id`].
pub fn withdrawal_end_to_end_id(chain_id: &str, contract: &str, withdrawal_id: u64) -> String {
    end_to_end_id('W', chain_id, contract, withdrawal_id)
}

/// 12 hex digits of `sha256("usagechain/v1/end-to-end-id" ‖ str chain_id ‖ str contract)`: the
/// deployment an end-to-end id belongs to (a collision between two deployments at one bank needs
/// about 2^24 of them).
pub fn deployment_tag(chain_id: &str, contract: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut e = Encoder::default();
    e.str(chain_id).str(contract);
    let digest = Sha256::new()
        .chain_update(b"usagechain/v1/end-to-end-id")
        .chain_update(e.finish())
        .finalize();
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

fn end_to_end_id(kind: char, chain_id: &str, contract: &str, id: u64) -> String {
    format!("USG-{kind}-{}-{id:016}", deployment_tag(chain_id, contract))
}

/// What an end-to-end id of ours names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndToEndKind {
    /// A settlement (C3).
    Settlement,
    /// A withdrawal (C5).
    Withdrawal,
}

/// Reads an end-to-end id made by [`settlement_end_to_end_id`] or [`withdrawal_end_to_end_id`]:
/// its kind, deployment tag and request id; `None` if it is not one.
pub fn parse_end_to_end_id(e2e: &str) -> Option<(EndToEndKind, &str, u64)> {
    let rest = e2e.strip_prefix("USG-")?;
    let (kind, rest) = rest.split_once('-')?;
    let kind = match kind {
        "S" => EndToEndKind::Settlement,
        "W" => EndToEndKind::Withdrawal,
        _ => return None,
    };
    let (tag, id) = rest.split_once('-')?;
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    if tag.len() != 12 || !tag.bytes().all(hex) {
        return None;
    }
    if id.len() != 16 || !id.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((kind, tag, id.parse().ok()?))
}
