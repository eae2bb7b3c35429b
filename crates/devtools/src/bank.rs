//! A stand-in for the bank's booking look-up that the members' signing service asks
//! (`GET /v1/bookings/{bank_ref}`), for tests that isolate the signing service: the test books
//! what the bank is to say. The bank simulator of the bank side replaces it in the flows.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use usage_aggregator::bank::BankBooking;

/// The bookings the stand-in answers with, by bank reference.
pub type Bookings = Arc<Mutex<BTreeMap<String, BankBooking>>>;

async fn booking(State(b): State<Bookings>, Path(bank_ref): Path<String>) -> Response {
    match b.lock().expect("bookings").get(&bank_ref) {
        Some(booking) => Json(booking.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves `bookings` on a free loopback port until the runtime ends; returns its base URL.
pub async fn serve_bookings(bookings: Bookings) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let app = Router::new()
        .route("/v1/bookings/{bank_ref}", get(booking))
        .with_state(bookings);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
