//! The per-window batch protocol and the chain follower.
//!
//! Every `tick_ms` each member:
//! 1. **follows** the chain: reads the events of new blocks and records which (terminal, window)
//!    are proven and which periods have first proofs or a second proof;
//! 2. **leads** where it is responsible: for a closed window `W` not yet proven that started at
//!    most [`BACKLOG_SECONDS`] ago (a window whose period closed while the committee was down
//!    is proposed all the same: C1 bills it late, in the period still open), the responsible
//!    member is `leader_for(W) + k` (mod n), where `k` counts the failover timeouts elapsed
//!    since the window closed and settled. It proposes the window's unproven records (recomputed from the samples
//!    it holds) to every peer; members recompute each record and answer with a BLS partial over
//!    the batch digest, or with the records they dispute. With `>= t` valid partials (its own
//!    included) it submits `SubmitBatch`; otherwise it proposes once more the records at least
//!    `t` members agree with. Records left out stay pending and are proposed again later (late
//!    samples land in a later batch for the same window); C1 proves each (terminal, window)
//!    once, and a leader never proposes what it knows to be proven or in flight.
//!
//! A window's record starts where the terminal's previous record, as proven, ended
//! ([`usage_aggregator_core::aggregate`]): each member notes the samples every record it proposes
//! or co-signs read, and keeps those of the batch the chain accepts. So a sample that arrives
//! after its window was proven is billed with the next window, and a record never reads what
//! another proven record read.
//!
//! A window bills the tenant of the lease covering it ([`crate::chainview::LeaseBook`]), the
//! only tenant C1 takes a record of; samples naming another tenant bill nothing, and a window no
//! lease covers is never proposed (nothing can bill it). Members apply the same rule when they
//! check a proposal, so one record C1 would refuse never sinks a batch.
//!
//! One module per role: [`follower`], [`leader`] and [`member`] share the window computations
//! of [`records`]; [`pruner`] says what may be forgotten. Each role runs as its own task (see
//! `crate::server`).

pub mod follower;
pub mod leader;
pub mod member;
pub mod pruner;
pub mod records;

pub use follower::*;
pub use leader::*;
pub use member::*;
pub use pruner::*;
pub use records::*;

#[cfg(test)]
mod tests;
