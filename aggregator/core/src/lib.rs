//! `usage-aggregator-core`: the pure, deterministic logic of a usagechain data-processing centre
//! (design flows 1-2). No I/O, no clocks, no randomness: every function here computes the same
//! output on every aggregator from the same input, which is what lets independent centres agree on
//! and threshold-sign the same batch.
//!
//! - [`verify`]: accept or refuse one signed terminal sample (signature, registered key, replay,
//!   a clock not in the future) and report sequence gaps.
//! - [`plausible`]: whether a sample can be physically true after the terminal's previous one.
//! - [`aggregate`]: turn a terminal's samples into the usage record of one window.
//! - [`batch`]: the canonical, sorted batch of records and its signed digest.
//! - [`quorum`]: window leaders and the collection of BLS partial signatures into a
//!   threshold signature.
#![warn(missing_docs)]

pub mod aggregate;
pub mod batch;
pub mod plausible;
pub mod quorum;
pub mod verify;
