//! The bank's HTTP API.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /v1/bank` | anyone | the bank's BIC, currency, custodial account and public key |
//! | `POST /v1/accounts` | a customer | opens an account `{iban, name, opening_balance}` |
//! | `GET /v1/accounts/{iban}` | a customer | the account and its booked balance (signed) |
//! | `POST /v1/transfers` | a customer | `{from, to, amount, remittance}`: a transfer, e.g. a deposit into the custodial account with the tenant's chain address as reference |
//! | `POST /v1/pain.001` | the custodial account's holder | `pain.001.001.09` in; executed payments answered with a signed `pain.002.001.10` |
//! | `GET /v1/bookings/{bank_ref}` | members, relayer | [`BookingStatement`] of the custodial account (signed) |
//! | `GET /v1/payments/{e2e}` | members, relayer | [`PaymentStatement`] (signed) |
//! | `GET /v1/notifications?after=N&limit=M` | relayer | the feed: `camt.054.001.08` of every custodial booking and `pain.002.001.10` of every message, in order (signed) |
//! | `POST /v1/faults` | tests, the demo | reject the next instructions, delay, duplicate or reorder notifications |
//!
//! Every signed answer carries the [`SIGNATURE_HEADER`] over its path and body
//! ([`usage_bank_api::signing_bytes`]). Amounts in JSON are decimal strings of minor units.
//! Errors are `{"error": kind, "message": text}` with a 4xx/5xx status; a refused request
//! changes nothing.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use usage_bank_api::{
    sign_statement, BookingStatement, BookingStatus, PaymentStatement, SIGNATURE_HEADER,
};
use usage_client::ChainClient;

use crate::approval::{self, Deployment, Instructed, Unauthorised};
use crate::config::is_account_id;
use crate::ledger::{FeedItem, Ledger, LedgerError, Payment};
use crate::messages;
use crate::metrics::BankMetrics;

/// Largest request body.
pub const MAX_BODY: usize = 1 << 20;

/// Most credit transfers in one pain.001.
pub const MAX_TRANSFERS: usize = 1_000;

/// What can be done to the notification feed and to instructions, to test the relayer.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Reject this many of the next new payments (reason `MS03`), then pay again.
    #[serde(default)]
    pub reject_next: u32,
    /// Hold back notifications younger than this many milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
    /// Deliver every notification twice.
    #[serde(default)]
    pub duplicate: bool,
    /// Deliver each pair of notifications in reverse order.
    #[serde(default)]
    pub reorder: bool,
}

/// The bank: its books, key, the chain it asks, and the faults it was told to make.
pub struct Bank {
    /// The books.
    pub ledger: Ledger,
    key: SigningKey,
    bic: String,
    chain: ChainClient,
    deployment: Deployment,
    faults: Mutex<Faults>,
    metrics: BankMetrics,
}

impl Bank {
    /// A bank over `ledger`, signing with `key`, executing what `deployment` on `chain`
    /// authorises.
    pub fn new(
        ledger: Ledger,
        key: SigningKey,
        bic: &str,
        chain: ChainClient,
        deployment: Deployment,
        metrics: BankMetrics,
    ) -> Bank {
        Bank {
            ledger,
            key,
            bic: bic.to_string(),
            chain,
            deployment,
            faults: Mutex::new(Faults::default()),
            metrics,
        }
    }

    /// The bank's public key, hex (what members and the relayer pin).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The API's routes.
pub fn router(bank: Arc<Bank>) -> Router {
    Router::new()
        .route("/v1/bank", get(about))
        .route("/v1/accounts", post(open_account))
        .route("/v1/accounts/{iban}", get(account))
        .route("/v1/transfers", post(transfer))
        .route("/v1/pain.001", post(pain001))
        .route("/v1/bookings/{bank_ref}", get(booking))
        .route("/v1/payments/{e2e}", get(payment))
        .route("/v1/notifications", get(notifications))
        .route("/v1/faults", post(set_faults).get(get_faults))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(bank)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An error answer: `{"error": kind, "message": text}`.
fn error(status: StatusCode, kind: &str, message: impl std::fmt::Display) -> Response {
    (
        status,
        Json(serde_json::json!({"error": kind, "message": message.to_string()})),
    )
        .into_response()
}

fn ledger_error(e: LedgerError) -> Response {
    match e {
        LedgerError::Store(m) => {
            tracing::error!(error = %m, "store");
            error(StatusCode::INTERNAL_SERVER_ERROR, "store", m)
        }
        LedgerError::NoAccount(_) => error(StatusCode::NOT_FOUND, "no_account", e),
        LedgerError::AccountExists(_) => error(StatusCode::CONFLICT, "account_exists", e),
        LedgerError::InsufficientFunds { .. } => {
            error(StatusCode::CONFLICT, "insufficient_funds", e)
        }
        LedgerError::InvalidAmount(_) => error(StatusCode::BAD_REQUEST, "invalid_amount", e),
        LedgerError::NotACustomer(_) => error(StatusCode::FORBIDDEN, "not_a_customer", e),
        LedgerError::MessageIdReused(_) => error(StatusCode::CONFLICT, "message_id_reused", e),
        LedgerError::WrongCurrency { .. } => error(StatusCode::BAD_REQUEST, "wrong_currency", e),
        LedgerError::SameAccount(_) => error(StatusCode::BAD_REQUEST, "same_account", e),
    }
}

/// `body` with `content_type`, signed for the request's `uri`.
fn signed(bank: &Bank, uri: &Uri, content_type: &str, body: Vec<u8>) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let signature = sign_statement(&bank.key, path, &body);
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::HeaderName::from_static(SIGNATURE_HEADER), signature),
        ],
        body,
    )
        .into_response()
}

fn signed_json<T: Serialize>(bank: &Bank, uri: &Uri, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => signed(bank, uri, "application/json", body),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "encode", e),
    }
}

#[derive(Serialize)]
struct About {
    bic: String,
    currency: String,
    custodial_account: String,
    public_key: String,
}

async fn about(State(bank): State<Arc<Bank>>) -> Json<About> {
    Json(About {
        bic: bank.bic.clone(),
        currency: bank.ledger.currency().to_string(),
        custodial_account: bank.ledger.custodial().to_string(),
        public_key: bank.public_key_hex(),
    })
}

/// Minor units as a decimal string.
mod decimal {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenAccount {
    iban: String,
    name: String,
    #[serde(with = "decimal", default)]
    opening_balance: u128,
}

async fn open_account(State(bank): State<Arc<Bank>>, Json(req): Json<OpenAccount>) -> Response {
    if !is_account_id(&req.iban) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_account",
            format!("{:?} is not an IBAN-like account id", req.iban),
        );
    }
    if req.name.is_empty() || req.name.len() > 140 {
        return error(StatusCode::BAD_REQUEST, "invalid_name", "1-140 characters");
    }
    match bank
        .ledger
        .open_account(&req.iban, &req.name, req.opening_balance, now_ms())
    {
        Ok(a) => (StatusCode::CREATED, Json(account_json(&a))).into_response(),
        Err(e) => ledger_error(e),
    }
}

fn account_json(a: &crate::ledger::Account) -> serde_json::Value {
    serde_json::json!({
        "iban": a.iban,
        "name": a.name,
        "kind": a.kind,
        "balance": a.balance.to_string(),
    })
}

async fn account(State(bank): State<Arc<Bank>>, uri: Uri, Path(iban): Path<String>) -> Response {
    match bank.ledger.account(&iban) {
        Ok(Some(a)) => signed_json(&bank, &uri, &account_json(&a)),
        Ok(None) => ledger_error(LedgerError::NoAccount(iban)),
        Err(e) => ledger_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    from: String,
    to: String,
    #[serde(with = "decimal")]
    amount: u128,
    #[serde(default)]
    remittance: Option<String>,
}

async fn transfer(State(bank): State<Arc<Bank>>, Json(req): Json<Transfer>) -> Response {
    if req
        .remittance
        .as_ref()
        .is_some_and(|r| r.is_empty() || r.chars().count() > 140 || r.chars().any(char::is_control))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_remittance",
            "1-140 characters, no control characters",
        );
    }
    match bank
        .ledger
        .transfer(&req.from, &req.to, req.amount, req.remittance, now_ms())
    {
        Ok(t) => {
            if t.credit == bank.ledger.custodial() {
                bank.metrics.deposits.inc();
            }
            tracing::info!(bank_ref = %t.bank_ref, from = %t.debit, to = %t.credit, amount = t.amount, "transfer booked");
            (StatusCode::CREATED, Json(t)).into_response()
        }
        Err(e) => ledger_error(e),
    }
}

async fn pain001(State(bank): State<Arc<Bank>>, uri: Uri, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed",
            "the body is not UTF-8",
        );
    };
    let initiation = match messages::parse_initiation(text) {
        Ok(i) => i,
        Err(e) => {
            bank.metrics.instructions_refused.inc();
            return error(StatusCode::BAD_REQUEST, "malformed", e);
        }
    };
    if initiation.debtor_account != bank.ledger.custodial() {
        bank.metrics.instructions_refused.inc();
        return error(
            StatusCode::FORBIDDEN,
            "not_custodial",
            format!(
                "this gateway executes instructions of the custodial account {} only",
                bank.ledger.custodial()
            ),
        );
    }
    if initiation.payments.len() > MAX_TRANSFERS {
        bank.metrics.instructions_refused.inc();
        return error(
            StatusCode::BAD_REQUEST,
            "too_many_transfers",
            format!("at most {MAX_TRANSFERS} transfers a message"),
        );
    }
    // A message seen before is answered as then (the ledger checks it is the same message).
    let seen = match bank.ledger.message(&initiation.message_id) {
        Ok(seen) => seen.is_some(),
        Err(e) => return ledger_error(e),
    };
    // Every new payment must be authorised on chain; already booked ones are answered as booked.
    let mut payments = Vec::with_capacity(initiation.payments.len());
    let mut new = 0usize;
    for p in &initiation.payments {
        match bank.ledger.by_end_to_end_id(&p.end_to_end_id) {
            Ok(Some(_)) => {}
            Ok(None) => {
                new += 1;
                let tx = Instructed {
                    end_to_end_id: &p.end_to_end_id,
                    amount: p.amount,
                    currency: &p.currency,
                    creditor: &p.creditor,
                };
                let signature = initiation.approval_of(&p.end_to_end_id);
                if let Err(e) =
                    approval::check(&bank.chain, &bank.deployment, &tx, signature.as_ref()).await
                {
                    bank.metrics.instructions_refused.inc();
                    tracing::warn!(e2e = %p.end_to_end_id, error = %e, "instruction refused");
                    return match e {
                        Unauthorised::ChainUnavailable(_) => {
                            error(StatusCode::SERVICE_UNAVAILABLE, "chain_unavailable", e)
                        }
                        _ => error(StatusCode::FORBIDDEN, "unauthorised", e),
                    };
                }
            }
            Err(e) => return ledger_error(e),
        }
        payments.push(Payment {
            end_to_end_id: p.end_to_end_id.clone(),
            creditor: p.creditor.clone(),
            creditor_name: p.creditor_name.clone(),
            amount: p.amount,
            currency: p.currency.clone(),
            remittance: p.remittance.clone(),
            reject: None,
        });
    }
    if !seen && new == 0 {
        // Nothing to pay: recording it would only take a message id someone else may need.
        bank.metrics.instructions_refused.inc();
        return error(
            StatusCode::CONFLICT,
            "nothing_new",
            "every transfer of this message was booked before; ask /v1/payments for them",
        );
    }
    {
        let mut faults = bank.faults();
        for p in &mut payments {
            if faults.reject_next > 0
                && matches!(bank.ledger.by_end_to_end_id(&p.end_to_end_id), Ok(None))
            {
                faults.reject_next -= 1;
                p.reject = Some("MS03".into());
            }
        }
    }
    let digest = hex::encode(Sha256::digest(&body));
    match bank.ledger.execute(
        &initiation.message_id,
        &initiation.payment_info_id,
        &digest,
        &payments,
        now_ms(),
    ) {
        Ok(record) => {
            for (e2e, t) in &record.outcomes {
                match t.status {
                    BookingStatus::Booked => bank.metrics.payments_booked.inc(),
                    BookingStatus::Rejected => bank.metrics.payments_rejected.inc(),
                };
                tracing::info!(%e2e, bank_ref = %t.bank_ref, status = ?t.status, "instruction executed");
            }
            let xml = messages::status_report(&bank.bic, &record);
            signed(&bank, &uri, "application/xml", xml.into_bytes())
        }
        Err(e) => ledger_error(e),
    }
}

async fn booking(
    State(bank): State<Arc<Bank>>,
    uri: Uri,
    Path(bank_ref): Path<String>,
) -> Response {
    match bank.ledger.by_ref(&bank_ref) {
        Ok(found) => {
            let booking = found.and_then(|t| t.booking_of(bank.ledger.custodial()));
            signed_json(&bank, &uri, &BookingStatement { bank_ref, booking })
        }
        Err(e) => ledger_error(e),
    }
}

async fn payment(State(bank): State<Arc<Bank>>, uri: Uri, Path(e2e): Path<String>) -> Response {
    match bank.ledger.by_end_to_end_id(&e2e) {
        Ok(found) => {
            let bookings: Vec<_> = found
                .iter()
                .filter_map(|t| t.booking_of(bank.ledger.custodial()))
                .collect();
            signed_json(
                &bank,
                &uri,
                &PaymentStatement {
                    end_to_end_id: e2e,
                    instructed: found.is_some(),
                    bookings,
                },
            )
        }
        Err(e) => ledger_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    limit: Option<usize>,
}

/// One notification as delivered.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Its position in the feed.
    pub seq: u64,
    /// `camt.054.001.08` or `pain.002.001.10`.
    pub message: String,
    /// The XML document.
    pub xml: String,
}

/// The answer to `GET /v1/notifications`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Notifications {
    /// What the bank delivers now (with faults: twice, out of order, or later).
    pub notifications: Vec<Notification>,
}

async fn notifications(
    State(bank): State<Arc<Bank>>,
    uri: Uri,
    Query(q): Query<FeedQuery>,
) -> Response {
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let items = match bank.ledger.feed(q.after, limit) {
        Ok(items) => items,
        Err(e) => return ledger_error(e),
    };
    let faults = bank.faults().clone();
    let now = now_ms();
    let mut out = vec![];
    for (seq, item) in items {
        let at = match &item {
            FeedItem::Booking(t) => t.booked_at_ms,
            FeedItem::Status(m) => m
                .outcomes
                .iter()
                .map(|(_, t)| t.booked_at_ms)
                .max()
                .unwrap_or(0),
        };
        if now.saturating_sub(at) < faults.delay_ms {
            // Held back, and everything after it with it.
            break;
        }
        let n = match &item {
            FeedItem::Booking(t) => Notification {
                seq,
                message: messages::CAMT054.into(),
                xml: messages::notification(&bank.bic, bank.ledger.custodial(), seq, t),
            },
            FeedItem::Status(m) => Notification {
                seq,
                message: messages::PAIN002.into(),
                xml: messages::status_report(&bank.bic, m),
            },
        };
        out.push(n);
    }
    if faults.reorder {
        for pair in out.chunks_mut(2) {
            pair.reverse();
        }
    }
    if faults.duplicate {
        out = out.into_iter().flat_map(|n| [n.clone(), n]).collect();
    }
    bank.metrics.notifications_served.inc_by(out.len() as u64);
    signed_json(&bank, &uri, &Notifications { notifications: out })
}

async fn set_faults(State(bank): State<Arc<Bank>>, Json(f): Json<Faults>) -> Json<Faults> {
    tracing::warn!(?f, "faults set");
    *bank.faults() = f.clone();
    Json(f)
}

async fn get_faults(State(bank): State<Arc<Bank>>) -> Json<Faults> {
    Json(bank.faults().clone())
}
