//! A stand-in for the bank's signed look-ups that the members' signing service asks
//! (`GET /v1/bookings/{bank_ref}`, `GET /v1/payments/{end_to_end_id}`), for tests that isolate
//! the signing service: the test books what the bank is to say, and may have some answers signed
//! by a key that is not the bank's (an impostor on the bank's address). The bank simulator of the
//! bank side replaces it in the flows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ed25519_dalek::SigningKey;
use usage_bank_api::{
    sign_statement, BankBooking, BookingStatement, PaymentStatement, SIGNATURE_HEADER,
};

/// What the stand-in answers with.
#[derive(Default)]
pub struct Book {
    /// Bookings by bank reference.
    pub bookings: BTreeMap<String, BankBooking>,
    /// Bank references whose look-up is answered with another key's signature.
    pub forged: BTreeSet<String>,
}

/// The stand-in's book, shared with the test.
pub type Bookings = Arc<Mutex<Book>>;

impl Book {
    /// Books `b` under `bank_ref`.
    pub fn insert(&mut self, bank_ref: String, b: BankBooking) {
        self.bookings.insert(bank_ref, b);
    }
}

/// A running stand-in.
pub struct StandIn {
    /// Its base URL.
    pub url: String,
    /// The bank's public key (hex) that members pin.
    pub public_key: String,
}

impl StandIn {
    /// How a member's configuration names this bank.
    pub fn link(&self) -> usage_aggregator::config::BankLink {
        usage_aggregator::config::BankLink {
            url: self.url.clone(),
            public_key: self.public_key.clone(),
        }
    }
}

#[derive(Clone)]
struct Served {
    book: Bookings,
    key: Arc<SigningKey>,
    impostor: Arc<SigningKey>,
}

fn signed(key: &SigningKey, uri: &Uri, body: Vec<u8>) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let sig = sign_statement(key, path, &body);
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::HeaderName::from_static(SIGNATURE_HEADER), sig),
        ],
        body,
    )
        .into_response()
}

async fn booking(State(s): State<Served>, uri: Uri, Path(bank_ref): Path<String>) -> Response {
    let (statement, forged) = {
        let book = s.book.lock().expect("book");
        (
            BookingStatement {
                booking: book.bookings.get(&bank_ref).cloned(),
                bank_ref: bank_ref.clone(),
            },
            book.forged.contains(&bank_ref),
        )
    };
    let key = if forged { &s.impostor } else { &s.key };
    signed(key, &uri, serde_json::to_vec(&statement).expect("json"))
}

async fn payment(State(s): State<Served>, uri: Uri, Path(e2e): Path<String>) -> Response {
    let statement = {
        let book = s.book.lock().expect("book");
        let bookings: Vec<BankBooking> = book
            .bookings
            .values()
            .filter(|b| b.end_to_end_id.as_deref() == Some(e2e.as_str()))
            .cloned()
            .collect();
        PaymentStatement {
            end_to_end_id: e2e,
            instructed: !bookings.is_empty(),
            bookings,
        }
    };
    signed(&s.key, &uri, serde_json::to_vec(&statement).expect("json"))
}

/// Serves `book` on a free loopback port until the runtime ends, signing with a fixed test key.
pub async fn serve_bookings(book: Bookings) -> StandIn {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let key = SigningKey::from_bytes(&[0xba; 32]);
    let public_key = hex::encode(key.verifying_key().as_bytes());
    let served = Served {
        book,
        key: Arc::new(key),
        impostor: Arc::new(SigningKey::from_bytes(&[0x1d; 32])),
    };
    let app = Router::new()
        .route("/v1/bookings/{bank_ref}", get(booking))
        .route("/v1/payments/{e2e}", get(payment))
        .with_state(served);
    tokio::spawn(async move { axum::serve(listener, app).await });
    StandIn { url, public_key }
}
