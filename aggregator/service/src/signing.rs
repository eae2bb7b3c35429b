//! The signing service for the bank side (design flows 4-6): a member signs a payment
//! instruction or a bank voucher with its BLS committee key only after checking it on its own.
//!
//! `POST /v1/sign` with a [`SignRequest`] sealed by an allowed caller ([`crate::callers`]: the
//! peers' keys and the configured relayer keys, a replay window and a per-caller rate limit,
//! checked before any query):
//! * `settlement_instruction` / `withdrawal_instruction` — the body signed is the one the
//!   contract itself returns (`InstructionPayload`), and the request must be in the state where
//!   payment is due (`Requested`), its amount and reference consistent with the stored request.
//! * `settlement_voucher` / `withdrawal_voucher` — the request must be `Instructed`, the voucher's
//!   end-to-end id and amount those of the request, and the bank's signed statement of that
//!   end-to-end id ([`usage_bank_api::PaymentStatement`]) must name exactly one final booking
//!   — the voucher's, a debit of that amount and currency, booked or rejected as the voucher
//!   says. Two outcomes for one end-to-end id (a rejection, then a payment of the same
//!   instruction) are refused either way.
//! * `deposit_voucher` — the bank reference is not credited yet on C4, and the bank's signed
//!   statement of it is a booked credit of that amount and currency whose remittance reference
//!   is the beneficiary.
//!
//! Only statements signed with the bank key this member pins count ([`usage_bank_api`]); an
//! answer from the bank's address without that signature is refused as `bank_unverified`.
//!
//! The answer is the member's partial signature over the payload's signing bytes, bound to the
//! chain, the verifying contract and the current committee epoch; or a typed refusal.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cosmwasm_std::Uint128;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use usage_common::msg::{ledger, period_proof, settlement, usage_proof, withdrawal, MAX_LIMIT};
use usage_common::payload::{
    BankOutcome, CommitteeRotation, DepositVoucher, DisputeOutcome, DisputeResolution, Domain,
    SettlementApproval, SettlementVoucher, SignedPayload, WithdrawalApproval, WithdrawalVoucher,
};
use usage_common::record::{Totals, UsageRecord};

use crate::callers::{Denied, SealedRequest};
use crate::config::Config;
use crate::protocol::own_record;
use crate::AppState;
use usage_bank_api::{BankBooking, BankClient, BankError, BookingStatus, Direction};

/// Path of the signing endpoint.
pub const SIGN_PATH: &str = "/v1/sign";

/// What to sign.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignRequest {
    /// C3's payment instruction of a settlement.
    SettlementInstruction {
        /// The settlement.
        settlement_id: u64,
    },
    /// C5's payment instruction of a withdrawal.
    WithdrawalInstruction {
        /// The withdrawal.
        withdrawal_id: u64,
    },
    /// The bank's outcome of a settlement payment.
    SettlementVoucher {
        /// The voucher.
        voucher: SettlementVoucher,
    },
    /// The bank's outcome of a withdrawal payment.
    WithdrawalVoucher {
        /// The voucher.
        voucher: WithdrawalVoucher,
    },
    /// A credit to the custodial account.
    DepositVoucher {
        /// The voucher.
        voucher: DepositVoucher,
    },
    /// The next committee (C1 `RotateCommittee`), signed by the current one.
    CommitteeRotation {
        /// The rotation.
        rotation: CommitteeRotation,
    },
    /// C2's resolution of the open dispute of a (provider, tenant, period), by this member's
    /// own records of the period's first proofs ([`dispute_outcome`]).
    DisputeResolution {
        /// The provider.
        provider: String,
        /// The tenant.
        tenant: String,
        /// The period.
        period_start: u64,
    },
}

/// A member's signature.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SignResponse {
    /// The member's committee index (its bit in the signer bitmap).
    pub member: usize,
    /// The committee epoch signed for.
    pub epoch: u64,
    /// The contract that will verify it.
    pub contract: String,
    /// Hex of the exact bytes signed.
    pub signing_bytes: String,
    /// Hex of the 96-byte BLS partial signature.
    pub partial: String,
}

/// Why a member refused to sign.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The request is not well formed.
    Malformed,
    /// No such request on the chain.
    NotFound,
    /// The request is not in the state this signature is for.
    WrongState,
    /// Already consumed (cleared, failed, credited).
    AlreadyConsumed,
    /// The voucher or instruction does not match the chain's request.
    Mismatch,
    /// The bank's own record does not confirm it.
    BankDisagrees,
    /// The answer from the bank's address is not signed by the bank's key (`502`).
    BankUnverified,
    /// This member has no bank to check vouchers against, or the contract is not configured.
    NotConfigured,
    /// The chain or the bank could not be reached; try again.
    Unavailable,
    /// This member holds no samples of what it is asked to check (never received, or
    /// forgotten): it cannot vouch either way.
    CannotCheck,
    /// The body is not a sealed request (`401`).
    Unsigned,
    /// The caller's key is not allowed to ask for signatures (`403`).
    UnknownCaller,
    /// The caller's signature does not verify (`401`).
    BadSignature,
    /// The request was sealed for another member (`401`).
    WrongMember,
    /// The request's timestamp is too far from this member's clock (`401`).
    Stale,
    /// The caller already used this nonce (`401`).
    Replayed,
    /// The caller asked too often; try again after `Retry-After` seconds (`429`).
    RateLimited,
}

impl Refusal {
    /// The HTTP status of a refusal.
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::BankUnverified => StatusCode::BAD_GATEWAY,
            Refusal::NotFound => StatusCode::NOT_FOUND,
            Refusal::Malformed => StatusCode::BAD_REQUEST,
            Refusal::Unsigned
            | Refusal::BadSignature
            | Refusal::WrongMember
            | Refusal::Stale
            | Refusal::Replayed => StatusCode::UNAUTHORIZED,
            Refusal::UnknownCaller => StatusCode::FORBIDDEN,
            Refusal::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Refusal::WrongState
            | Refusal::AlreadyConsumed
            | Refusal::Mismatch
            | Refusal::BankDisagrees
            | Refusal::NotConfigured
            | Refusal::CannotCheck => StatusCode::CONFLICT,
        }
    }
}

/// The refusal body.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RefusalBody {
    /// The kind.
    pub error: Refusal,
    /// Details.
    pub message: String,
}

fn refuse(error: Refusal, message: impl Into<String>) -> (Refusal, String) {
    (error, message.into())
}

type Checked<T> = Result<T, (Refusal, String)>;

fn unavailable(e: impl std::fmt::Display) -> (Refusal, String) {
    refuse(Refusal::Unavailable, e.to_string())
}

fn bank(state: &AppState) -> Checked<&BankClient> {
    state.bank.as_ref().ok_or_else(|| {
        refuse(
            Refusal::NotConfigured,
            "no bank configured to check vouchers",
        )
    })
}

fn bank_error(e: BankError) -> (Refusal, String) {
    match e {
        BankError::Unreachable(_) | BankError::Status(_) => unavailable(e),
        BankError::Unsigned
        | BankError::BadSignature
        | BankError::Malformed(_)
        | BankError::WrongSubject { .. } => refuse(Refusal::BankUnverified, e.to_string()),
    }
}

/// The bank's signed word on booking `bank_ref`.
async fn booking(state: &AppState, bank_ref: &str) -> Checked<BankBooking> {
    match bank(state)?.booking(bank_ref).await {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(refuse(
            Refusal::BankDisagrees,
            format!("the bank has no booking {bank_ref}"),
        )),
        Err(e) => Err(bank_error(e)),
    }
}

/// The one final booking the bank's signed statement names for `end_to_end_id`.
async fn payment_outcome(state: &AppState, end_to_end_id: &str) -> Checked<BankBooking> {
    let statement = bank(state)?
        .payment(end_to_end_id)
        .await
        .map_err(bank_error)?;
    match statement.outcome() {
        Ok(Some(b)) => Ok(b.clone()),
        Ok(None) => Err(refuse(
            Refusal::BankDisagrees,
            format!("the bank has booked nothing for {end_to_end_id}"),
        )),
        Err(e) => Err(refuse(Refusal::BankDisagrees, e.to_string())),
    }
}

fn contract(address: &Option<String>, what: &str) -> Checked<String> {
    address.clone().ok_or_else(|| {
        refuse(
            Refusal::NotConfigured,
            format!("{what} address not configured"),
        )
    })
}

fn confirm_debit(
    b: &BankBooking,
    end_to_end_id: &str,
    amount: u128,
    currency: &str,
    outcome: &BankOutcome,
) -> Checked<()> {
    let status = match outcome {
        BankOutcome::Booked => BookingStatus::Booked,
        BankOutcome::Rejected => BookingStatus::Rejected,
    };
    if b.direction != Direction::Debit
        || b.end_to_end_id.as_deref() != Some(end_to_end_id)
        || b.amount != amount
        || b.currency != currency
        || b.status != status
    {
        return Err(refuse(
            Refusal::BankDisagrees,
            format!("the bank's booking {} says {b:?}", b.bank_ref),
        ));
    }
    Ok(())
}

/// Where a bank payment's request stands, as far as signing for it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Payment is due: its instruction may be signed.
    Requested,
    /// The instruction went out: the bank's voucher may be signed.
    Instructed,
    /// A voucher already settled it.
    Consumed,
    /// Anything else (delayed, cancelled).
    Other,
}

/// What a voucher of a bank payment says, whichever contract it is for.
struct VoucherView<'a> {
    id: u64,
    end_to_end_id: &'a str,
    amount: Uint128,
    bank_ref: &'a str,
    outcome: &'a BankOutcome,
}

/// A payment the bank makes on a contract's word — a settlement on C3 or a withdrawal on C5 —
/// as the signing service checks it: fetched by id, its stage, what it pays, the instruction the
/// contract returns for it and the bank's voucher of its outcome. Both kinds go through the same
/// checks ([`sign_instruction`], [`sign_voucher`]) and differ only in these types and names.
trait BankPayment: Sized {
    /// The request's name in refusals (`"settlement"`), also the contract's.
    const NAME: &'static str;
    /// The contract's query message.
    type Query: Serialize;
    /// The answer to [`BankPayment::by_id`].
    type Response: DeserializeOwned;
    /// The status the contract keeps, shown in refusals.
    type Status: std::fmt::Debug;
    /// The instruction payload the contract returns.
    type Approval: DeserializeOwned + SignedPayload;
    /// The bank's voucher of the payment's outcome.
    type Voucher: SignedPayload;

    /// The contract's configured address.
    fn contract(config: &Config) -> &Option<String>;
    /// The query for request `id`.
    fn by_id(id: u64) -> Self::Query;
    /// The query for request `id`'s instruction payload.
    fn instruction(id: u64) -> Self::Query;
    /// The request in the answer, if there is one.
    fn found(response: Self::Response) -> Option<Self>;
    /// Its status.
    fn status(&self) -> &Self::Status;
    /// Its status as far as signing goes.
    fn stage(&self) -> Stage;
    /// The amount paid.
    fn amount(&self) -> Uint128;
    /// The currency paid in.
    fn currency(&self) -> &str;
    /// The payment's end-to-end id.
    fn end_to_end_id(&self) -> &str;
    /// Whether `approval` pays this request's amount, end-to-end id and account.
    fn instructed_by(&self, approval: &Self::Approval) -> bool;
    /// What `voucher` says.
    fn voucher(voucher: &Self::Voucher) -> VoucherView<'_>;
}

impl BankPayment for settlement::Settlement {
    const NAME: &'static str = "settlement";
    type Query = settlement::QueryMsg;
    type Response = settlement::SettlementResponse;
    type Status = settlement::SettlementStatus;
    type Approval = SettlementApproval;
    type Voucher = SettlementVoucher;

    fn contract(config: &Config) -> &Option<String> {
        &config.settlement
    }
    fn by_id(settlement_id: u64) -> Self::Query {
        settlement::QueryMsg::Settlement { settlement_id }
    }
    fn instruction(settlement_id: u64) -> Self::Query {
        settlement::QueryMsg::InstructionPayload { settlement_id }
    }
    fn found(response: Self::Response) -> Option<Self> {
        response.settlement
    }
    fn status(&self) -> &Self::Status {
        &self.status
    }
    fn stage(&self) -> Stage {
        match self.status {
            settlement::SettlementStatus::Requested => Stage::Requested,
            settlement::SettlementStatus::Instructed => Stage::Instructed,
            settlement::SettlementStatus::Cleared { .. }
            | settlement::SettlementStatus::Failed { .. } => Stage::Consumed,
        }
    }
    fn amount(&self) -> Uint128 {
        self.amount
    }
    fn currency(&self) -> &str {
        &self.currency
    }
    fn end_to_end_id(&self) -> &str {
        &self.end_to_end_id
    }
    fn instructed_by(&self, approval: &SettlementApproval) -> bool {
        approval.amount == self.amount
            && approval.end_to_end_id == self.end_to_end_id
            && approval.payee_account == self.payee_account
    }
    fn voucher(v: &SettlementVoucher) -> VoucherView<'_> {
        VoucherView {
            id: v.settlement_id,
            end_to_end_id: &v.end_to_end_id,
            amount: v.amount,
            bank_ref: &v.bank_ref,
            outcome: &v.outcome,
        }
    }
}

impl BankPayment for withdrawal::Withdrawal {
    const NAME: &'static str = "withdrawal";
    type Query = withdrawal::QueryMsg;
    type Response = withdrawal::WithdrawalResponse;
    type Status = withdrawal::WithdrawalStatus;
    type Approval = WithdrawalApproval;
    type Voucher = WithdrawalVoucher;

    fn contract(config: &Config) -> &Option<String> {
        &config.withdrawal
    }
    fn by_id(withdrawal_id: u64) -> Self::Query {
        withdrawal::QueryMsg::Withdrawal { withdrawal_id }
    }
    fn instruction(withdrawal_id: u64) -> Self::Query {
        withdrawal::QueryMsg::InstructionPayload { withdrawal_id }
    }
    fn found(response: Self::Response) -> Option<Self> {
        response.withdrawal
    }
    fn status(&self) -> &Self::Status {
        &self.status
    }
    fn stage(&self) -> Stage {
        match self.status {
            withdrawal::WithdrawalStatus::Requested => Stage::Requested,
            withdrawal::WithdrawalStatus::Instructed => Stage::Instructed,
            withdrawal::WithdrawalStatus::Completed { .. }
            | withdrawal::WithdrawalStatus::Failed { .. } => Stage::Consumed,
            withdrawal::WithdrawalStatus::Delayed { .. }
            | withdrawal::WithdrawalStatus::Cancelled => Stage::Other,
        }
    }
    fn amount(&self) -> Uint128 {
        self.amount
    }
    fn currency(&self) -> &str {
        &self.currency
    }
    fn end_to_end_id(&self) -> &str {
        &self.end_to_end_id
    }
    fn instructed_by(&self, approval: &WithdrawalApproval) -> bool {
        approval.amount == self.amount
            && approval.end_to_end_id == self.end_to_end_id
            && approval.beneficiary_account == self.beneficiary
    }
    fn voucher(v: &WithdrawalVoucher) -> VoucherView<'_> {
        VoucherView {
            id: v.withdrawal_id,
            end_to_end_id: &v.end_to_end_id,
            amount: v.amount,
            bank_ref: &v.bank_ref,
            outcome: &v.outcome,
        }
    }
}

/// Request `id` of `P`'s contract, with the contract's address.
async fn fetch<P: BankPayment>(state: &AppState, id: u64) -> Checked<(String, P)> {
    let address = contract(P::contract(&state.config), P::NAME)?;
    let response: P::Response = state
        .client
        .smart(&address, &P::by_id(id))
        .await
        .map_err(unavailable)?;
    let request = P::found(response)
        .ok_or_else(|| refuse(Refusal::NotFound, format!("no such {}", P::NAME)))?;
    Ok((address, request))
}

/// The instruction of request `id`, as its contract returns it, if payment is due and it pays
/// what the request says.
async fn sign_instruction<P: BankPayment>(
    state: &AppState,
    epoch: u64,
    id: u64,
) -> Checked<(String, Vec<u8>)> {
    let (address, request) = fetch::<P>(state, id).await?;
    if request.stage() != Stage::Requested {
        return Err(refuse(
            Refusal::WrongState,
            format!("{} is {:?}", P::NAME, request.status()),
        ));
    }
    let payload: P::Approval = state
        .client
        .smart(&address, &P::instruction(id))
        .await
        .map_err(unavailable)?;
    if !request.instructed_by(&payload) {
        return Err(refuse(
            Refusal::Mismatch,
            format!("instruction differs from the {}", P::NAME),
        ));
    }
    let bytes = payload.signing_bytes(&Domain::new(&state.config.chain_id, &address, epoch));
    Ok((address, bytes))
}

/// `voucher`, if its request was instructed and not settled yet, it pays what the request says
/// and the bank's own booking agrees.
async fn sign_voucher<P: BankPayment>(
    state: &AppState,
    epoch: u64,
    voucher: &P::Voucher,
) -> Checked<(String, Vec<u8>)> {
    let v = P::voucher(voucher);
    let (address, request) = fetch::<P>(state, v.id).await?;
    match request.stage() {
        Stage::Instructed => {}
        Stage::Consumed => {
            return Err(refuse(
                Refusal::AlreadyConsumed,
                format!("{} is {:?}", P::NAME, request.status()),
            ))
        }
        Stage::Requested | Stage::Other => {
            return Err(refuse(
                Refusal::WrongState,
                format!("{} is {:?}", P::NAME, request.status()),
            ))
        }
    }
    if v.end_to_end_id != request.end_to_end_id() || v.amount != request.amount() {
        return Err(refuse(
            Refusal::Mismatch,
            format!("voucher differs from the {}", P::NAME),
        ));
    }
    let b = payment_outcome(state, request.end_to_end_id()).await?;
    if b.bank_ref != v.bank_ref {
        return Err(refuse(
            Refusal::BankDisagrees,
            format!(
                "the bank's booking of {} is {}, not {}",
                request.end_to_end_id(),
                b.bank_ref,
                v.bank_ref
            ),
        ));
    }
    confirm_debit(
        &b,
        request.end_to_end_id(),
        request.amount().u128(),
        request.currency(),
        v.outcome,
    )?;
    let bytes = voucher.signing_bytes(&Domain::new(&state.config.chain_id, &address, epoch));
    Ok((address, bytes))
}

/// Every first proof of (provider, tenant, period) on C1 at `c1`, in accumulator order.
async fn first_proofs(
    client: &usage_client::ChainClient,
    c1: &str,
    provider: &str,
    tenant: &str,
    period_start: u64,
) -> Checked<Vec<usage_proof::FirstProof>> {
    let mut out: Vec<usage_proof::FirstProof> = vec![];
    let mut start_after: Option<u64> = None;
    loop {
        let page: usage_proof::ProofsResponse = client
            .smart(
                c1,
                &usage_proof::QueryMsg::PeriodProofs {
                    provider: provider.to_string(),
                    tenant: tenant.to_string(),
                    period_start,
                    start_after,
                    limit: Some(MAX_LIMIT),
                },
            )
            .await
            .map_err(unavailable)?;
        let Some(last) = page.proofs.last().map(|p| p.period_index) else {
            return Ok(out);
        };
        if start_after.is_some_and(|s| last <= s) {
            return Err(unavailable("C1's period proofs did not advance"));
        }
        start_after = Some(last);
        out.extend(page.proofs);
    }
}

/// The outcome a member vouches for, from each proven record of the disputed period paired with
/// this member's own record of the same (terminal, window), recomputed from its verified
/// samples as when it co-signs a batch (`None`: it holds no samples of that window):
/// * every proven record equals its own → [`DisputeOutcome::Upheld`];
/// * some differ, or are unknown to it while it holds others → the totals of its own records
///   of the disputed tenant (an unknown window, or one its record bills to another tenant,
///   counts for nothing), each capped at the proven total since a dispute can only lower a
///   bill: [`DisputeOutcome::Adjusted`] with them, or `Upheld` if that lowers nothing;
/// * it holds no samples of any of them, or there are none → `None`: it cannot check.
///
/// The rule depends on the records only (not on their order), so members holding the same
/// samples vouch for the same outcome.
pub fn dispute_outcome(pairs: &[(UsageRecord, Option<UsageRecord>)]) -> Option<DisputeOutcome> {
    if pairs.iter().all(|(_, own)| own.is_none()) {
        return None;
    }
    if pairs
        .iter()
        .all(|(proven, own)| own.as_ref() == Some(proven))
    {
        return Some(DisputeOutcome::Upheld);
    }
    let mut proven_totals = Totals::default();
    let mut own_totals = Totals::default();
    for (proven, own) in pairs {
        proven_totals = proven_totals.checked_add(&Totals::of(&proven.metrics))?;
        if let Some(own) = own.as_ref().filter(|o| o.tenant == proven.tenant) {
            own_totals = own_totals.checked_add(&Totals::of(&own.metrics))?;
        }
    }
    let capped = Totals {
        records: own_totals.records.min(proven_totals.records),
        net_rx_bytes: own_totals.net_rx_bytes.min(proven_totals.net_rx_bytes),
        net_tx_bytes: own_totals.net_tx_bytes.min(proven_totals.net_tx_bytes),
        cpu_time_us: own_totals.cpu_time_us.min(proven_totals.cpu_time_us),
        memory_mib_s: own_totals.memory_mib_s.min(proven_totals.memory_mib_s),
        storage_mib_s: own_totals.storage_mib_s.min(proven_totals.storage_mib_s),
        idle_cpu_millicore_s: own_totals
            .idle_cpu_millicore_s
            .min(proven_totals.idle_cpu_millicore_s),
        idle_memory_mib_s: own_totals
            .idle_memory_mib_s
            .min(proven_totals.idle_memory_mib_s),
        idle_storage_mib_s: own_totals
            .idle_storage_mib_s
            .min(proven_totals.idle_storage_mib_s),
        app_up_s: own_totals.app_up_s.min(proven_totals.app_up_s),
        app_down_s: own_totals.app_down_s.min(proven_totals.app_down_s),
    };
    if capped == proven_totals {
        return Some(DisputeOutcome::Upheld);
    }
    Some(DisputeOutcome::Adjusted { totals: capped })
}

/// Checks `request` and returns (verifying contract, signing bytes).
async fn check(state: &AppState, epoch: u64, request: &SignRequest) -> Checked<(String, Vec<u8>)> {
    let chain = state.config.chain_id.as_str();
    let client = &state.client;
    match request {
        SignRequest::CommitteeRotation { rotation } => {
            let Some(approved) = &state.config.approved_rotation else {
                return Err(refuse(
                    Refusal::NotConfigured,
                    "no rotation approved by this member's operator",
                ));
            };
            if approved != rotation {
                return Err(refuse(
                    Refusal::Mismatch,
                    "not the rotation this member's operator approved",
                ));
            }
            if rotation.new_epoch != epoch.saturating_add(1) {
                return Err(refuse(
                    Refusal::WrongState,
                    format!("the chain's committee is at epoch {epoch}"),
                ));
            }
            let n = rotation.members.len();
            let t = rotation.threshold as usize;
            if t == 0 || t > n || t * 2 <= n {
                return Err(refuse(
                    Refusal::Mismatch,
                    format!("threshold {t} of {n} members"),
                ));
            }
            let mut keys: Vec<&[u8]> = rotation
                .members
                .iter()
                .map(|m| m.pubkey.as_slice())
                .collect();
            keys.sort();
            keys.dedup();
            if keys.len() != n {
                return Err(refuse(Refusal::Mismatch, "a key appears twice"));
            }
            if let Some(bad) = rotation
                .members
                .iter()
                .position(|m| !usage_signer::verify_pop(m.pubkey.as_slice(), m.pop.as_slice()))
            {
                return Err(refuse(
                    Refusal::Mismatch,
                    format!("member {bad}'s proof of possession does not verify"),
                ));
            }
            let c1 = state.config.usage_proof.clone();
            Ok((
                c1.clone(),
                rotation.signing_bytes(&Domain::new(chain, &c1, epoch)),
            ))
        }
        SignRequest::SettlementInstruction { settlement_id } => {
            sign_instruction::<settlement::Settlement>(state, epoch, *settlement_id).await
        }
        SignRequest::WithdrawalInstruction { withdrawal_id } => {
            sign_instruction::<withdrawal::Withdrawal>(state, epoch, *withdrawal_id).await
        }
        SignRequest::SettlementVoucher { voucher } => {
            sign_voucher::<settlement::Settlement>(state, epoch, voucher).await
        }
        SignRequest::WithdrawalVoucher { voucher } => {
            sign_voucher::<withdrawal::Withdrawal>(state, epoch, voucher).await
        }
        SignRequest::DisputeResolution {
            provider,
            tenant,
            period_start,
        } => {
            let c2 = state.config.period_proof.clone();
            let p: period_proof::PeriodProofResponse = client
                .smart(
                    &c2,
                    &period_proof::QueryMsg::PeriodProof {
                        provider: provider.clone(),
                        tenant: tenant.clone(),
                        period_start: *period_start,
                    },
                )
                .await
                .map_err(unavailable)?;
            let proof = p
                .proof
                .ok_or_else(|| refuse(Refusal::NotFound, "no second proof of this period"))?;
            let (opened_at, resolve_by) = match &proof.status {
                period_proof::PeriodStatus::Disputed {
                    opened_at,
                    resolve_by,
                    ..
                } => (*opened_at, *resolve_by),
                period_proof::PeriodStatus::Resolved { .. } => {
                    return Err(refuse(
                        Refusal::AlreadyConsumed,
                        "the dispute is already resolved",
                    ))
                }
                period_proof::PeriodStatus::Proven => {
                    return Err(refuse(Refusal::WrongState, "the period is not disputed"))
                }
            };
            let (_, now) = client.status().await.map_err(unavailable)?;
            if now > resolve_by {
                return Err(refuse(
                    Refusal::WrongState,
                    format!("the resolution deadline passed at {resolve_by}"),
                ));
            }
            let first = first_proofs(
                client,
                &state.config.usage_proof,
                provider,
                tenant,
                *period_start,
            )
            .await?;
            if first.len() as u64 != proof.totals.records {
                return Err(refuse(
                    Refusal::Mismatch,
                    format!(
                        "C1 holds {} first proofs of the period, its second proof {}",
                        first.len(),
                        proof.totals.records
                    ),
                ));
            }
            let window_seconds = state.view.read().await.window_seconds;
            let reader = state.store.reader().map_err(unavailable)?;
            let pairs: Vec<(UsageRecord, Option<UsageRecord>)> = first
                .into_iter()
                .map(|f| {
                    let own = own_record(&reader, window_seconds, &f.terminal_id, f.window_start);
                    let proven = UsageRecord {
                        terminal_id: f.terminal_id,
                        window_start: f.window_start,
                        tenant: f.tenant,
                        metrics: f.metrics,
                    };
                    (proven, own)
                })
                .collect();
            let outcome = dispute_outcome(&pairs).ok_or_else(|| {
                refuse(
                    Refusal::CannotCheck,
                    "this member holds no samples of the period's proven windows",
                )
            })?;
            let resolution = DisputeResolution {
                provider: provider.clone(),
                tenant: tenant.clone(),
                period_start: *period_start,
                opened_at,
                outcome,
            };
            Ok((
                c2.clone(),
                resolution.signing_bytes(&Domain::new(chain, &c2, epoch)),
            ))
        }
        SignRequest::DepositVoucher { voucher } => {
            let c4 = contract(&state.config.ledger, "ledger")?;
            let d: ledger::DepositResponse = client
                .smart(
                    &c4,
                    &ledger::QueryMsg::Deposit {
                        bank_ref: voucher.bank_ref.clone(),
                    },
                )
                .await
                .map_err(unavailable)?;
            if d.deposit.is_some() {
                return Err(refuse(
                    Refusal::AlreadyConsumed,
                    "this bank reference is already credited",
                ));
            }
            let b = booking(state, &voucher.bank_ref).await?;
            if b.direction != Direction::Credit
                || b.status != BookingStatus::Booked
                || b.amount != voucher.amount.u128()
                || b.currency != voucher.currency
                || b.remittance.as_deref() != Some(voucher.beneficiary.as_str())
            {
                return Err(refuse(
                    Refusal::BankDisagrees,
                    format!("the bank's booking {} says {b:?}", b.bank_ref),
                ));
            }
            Ok((
                c4.clone(),
                voucher.signing_bytes(&Domain::new(chain, &c4, epoch)),
            ))
        }
    }
}

/// Asks member `member` (at `base_url`) to sign `request`, sealed with `key` for `chain_id`:
/// its signature, or the HTTP status and refusal.
pub async fn ask(
    http: &reqwest::Client,
    base_url: &str,
    key: &ed25519_dalek::SigningKey,
    chain_id: &str,
    member: usize,
    request: &SignRequest,
) -> Result<SignResponse, (u16, RefusalBody)> {
    let transport = |e: &dyn std::fmt::Display| {
        (
            0,
            RefusalBody {
                error: Refusal::Unavailable,
                message: e.to_string(),
            },
        )
    };
    let sealed =
        SealedRequest::seal_now(key, chain_id, member, request).map_err(|e| transport(&e))?;
    let r = http
        .post(format!("{base_url}{SIGN_PATH}"))
        .json(&sealed)
        .send()
        .await
        .map_err(|e| transport(&e))?;
    let status = r.status().as_u16();
    if status == 200 {
        return r.json().await.map_err(|e| transport(&e));
    }
    let body: RefusalBody = r.json().await.map_err(|e| (status, transport(&e).1))?;
    Err((status, body))
}

/// The refusal `error` as an HTTP answer.
fn refusal(error: Refusal, message: String) -> Response {
    (error.status(), Json(RefusalBody { error, message })).into_response()
}

/// `POST /v1/sign` with a [`SealedRequest`]: the caller is admitted by
/// [`crate::callers::CallerGuard`] before anything is queried.
pub async fn sign(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let admitted = state.callers.admit(
        &body,
        &state.config.chain_id,
        state.config.index,
        crate::now_ms(),
    );
    let (caller, text) = match admitted {
        Ok(a) => a,
        Err(denied) => {
            tracing::info!(?denied, "sign request not admitted");
            let (error, message) = match denied {
                Denied::Unsigned => (Refusal::Unsigned, "not a sealed sign request".to_string()),
                Denied::UnknownCaller => (
                    Refusal::UnknownCaller,
                    "this key may not ask for signatures".to_string(),
                ),
                Denied::BadSignature => (
                    Refusal::BadSignature,
                    "the caller's signature does not verify".to_string(),
                ),
                Denied::WrongMember => (
                    Refusal::WrongMember,
                    format!("sealed for another member than {}", state.config.index),
                ),
                Denied::Stale => (
                    Refusal::Stale,
                    "the timestamp is outside this member's window".to_string(),
                ),
                Denied::Replayed => (
                    Refusal::Replayed,
                    "this caller already used this nonce".to_string(),
                ),
                Denied::RateLimited { retry_after_ms } => {
                    let seconds = retry_after_ms.div_ceil(1_000).max(1);
                    let mut r = refusal(
                        Refusal::RateLimited,
                        format!("too many requests; retry after {seconds} s"),
                    );
                    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                        r.headers_mut().insert(RETRY_AFTER, v);
                    }
                    return r;
                }
            };
            return refusal(error, message);
        }
    };
    let caller = hex::encode(caller);
    let Ok(request) = serde_json::from_str::<SignRequest>(&text) else {
        return refusal(Refusal::Malformed, "not a sign request".into());
    };
    let committee = state.view.read().await.committee.clone();
    let epoch = committee.epoch;
    match check(&state, epoch, &request).await {
        Ok((contract, bytes)) => {
            tracing::info!(%caller, ?request, "signed for the bank side");
            Json(SignResponse {
                member: state.config.index,
                epoch,
                contract,
                signing_bytes: hex::encode(&bytes),
                partial: hex::encode(state.key_for(&committee).sign(&bytes)),
            })
            .into_response()
        }
        Err((error, message)) => {
            tracing::warn!(%caller, ?request, ?error, %message, "refused to sign");
            refusal(error, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use usage_common::record::Metrics;

    fn record(terminal: &str, window_start: u64, tx: u64) -> UsageRecord {
        UsageRecord {
            terminal_id: terminal.into(),
            window_start,
            tenant: "usage1tenant".into(),
            metrics: Metrics {
                net_tx_bytes: tx,
                cpu_time_us: 7,
                ..Metrics::default()
            },
        }
    }

    fn proven() -> Vec<UsageRecord> {
        vec![
            record("t1", 60, 100),
            record("t1", 70, 200),
            record("t2", 60, 300),
        ]
    }

    #[test]
    fn a_period_whose_every_proven_record_is_the_members_own_is_upheld() {
        let pairs: Vec<_> = proven().into_iter().map(|r| (r.clone(), Some(r))).collect();
        assert_eq!(dispute_outcome(&pairs), Some(DisputeOutcome::Upheld));
    }

    #[test]
    fn a_proven_record_that_differs_from_the_members_own_adjusts_to_its_own_totals() {
        let mut pairs: Vec<_> = proven().into_iter().map(|r| (r.clone(), Some(r))).collect();
        pairs[1].1 = Some(record("t1", 70, 150));
        let Some(DisputeOutcome::Adjusted { totals }) = dispute_outcome(&pairs) else {
            panic!("not adjusted: {:?}", dispute_outcome(&pairs));
        };
        assert_eq!(totals.records, 3);
        assert_eq!(totals.net_tx_bytes, 100 + 150 + 300);
        assert_eq!(totals.cpu_time_us, 21);

        // A window the member's own record bills to another tenant is none of this tenant's.
        let mut pairs: Vec<_> = proven().into_iter().map(|r| (r.clone(), Some(r))).collect();
        let mut other = record("t2", 60, 300);
        other.tenant = "usage1other".into();
        pairs[2].1 = Some(other);
        let Some(DisputeOutcome::Adjusted { totals }) = dispute_outcome(&pairs) else {
            panic!("not adjusted");
        };
        assert_eq!((totals.records, totals.net_tx_bytes), (2, 300));
    }

    #[test]
    fn a_resolution_never_bills_more_than_was_proven() {
        // The member's own record of one window shows more than was proven, of another less:
        // each total is the lower of its own and the proven one, as C2 takes no more.
        let mut pairs: Vec<_> = proven().into_iter().map(|r| (r.clone(), Some(r))).collect();
        let mut more = record("t1", 60, 1_000);
        more.metrics.cpu_time_us = 1;
        pairs[0].1 = Some(more);
        let Some(DisputeOutcome::Adjusted { totals }) = dispute_outcome(&pairs) else {
            panic!("not adjusted");
        };
        let proven_totals = totals_of(&proven());
        assert!(totals.at_most(&proven_totals));
        assert_eq!(
            totals.net_tx_bytes, 600,
            "its own 1,500 is more than proven"
        );
        assert_eq!(
            totals.cpu_time_us, 15,
            "its own 15 is less than the proven 21"
        );

        // Records that only ever show more than was proven leave nothing to lower.
        let mut pairs: Vec<_> = proven().into_iter().map(|r| (r.clone(), Some(r))).collect();
        pairs[1].1 = Some(record("t1", 70, 900));
        assert_eq!(dispute_outcome(&pairs), Some(DisputeOutcome::Upheld));
    }

    fn totals_of(records: &[UsageRecord]) -> Totals {
        records.iter().fold(Totals::default(), |t, r| {
            t.checked_add(&Totals::of(&r.metrics)).unwrap()
        })
    }

    #[test]
    fn a_proven_record_unknown_to_a_member_holding_the_others_counts_for_nothing() {
        let mut pairs: Vec<_> = proven().into_iter().map(|r| (r.clone(), Some(r))).collect();
        pairs[0].1 = None;
        let Some(DisputeOutcome::Adjusted { totals }) = dispute_outcome(&pairs) else {
            panic!("not adjusted");
        };
        assert_eq!((totals.records, totals.net_tx_bytes), (2, 500));
    }

    #[test]
    fn a_member_without_samples_of_the_period_cannot_check_it() {
        let pairs: Vec<_> = proven().into_iter().map(|r| (r, None)).collect();
        assert_eq!(dispute_outcome(&pairs), None);
        assert_eq!(dispute_outcome(&[]), None);
    }

    #[test]
    fn the_outcome_does_not_depend_on_the_order_of_the_records() {
        let mut pairs: Vec<_> = proven().into_iter().map(|r| (r.clone(), Some(r))).collect();
        pairs[1].1 = Some(record("t1", 70, 150));
        pairs[2].1 = None;
        let outcome = dispute_outcome(&pairs);
        pairs.reverse();
        assert_eq!(dispute_outcome(&pairs), outcome);
        pairs.swap(0, 1);
        assert_eq!(dispute_outcome(&pairs), outcome);
    }

    #[test]
    fn a_dispute_resolution_request_reads_as_the_chain_names_it() {
        let r: SignRequest = serde_json::from_str(
            r#"{"kind":"dispute_resolution","provider":"usage1p","tenant":"usage1t","period_start":60}"#,
        )
        .unwrap();
        assert!(matches!(
            r,
            SignRequest::DisputeResolution {
                period_start: 60,
                ..
            }
        ));
    }
}
