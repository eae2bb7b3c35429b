//! The ABCI server: CometBFT's connections (consensus, mempool, info, snapshot) each get a thread
//! from `tendermint-abci`; every request goes over one channel to the single thread that owns the
//! [`Machine`], so state transitions happen in CometBFT's order on one thread. That thread also
//! records the node's [`Metrics`] of each block, after the block's work.

use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::Instant;

use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp as ProtoTimestamp;
use tendermint_proto::v0_38::abci::*;

use crate::machine::{Machine, NodeConfig};
use crate::metrics::Metrics;
use crate::queries;

type Job = Box<dyn FnOnce(&mut Machine) + Send>;

/// The handle CometBFT's connections hold: cloneable and `Send`.
#[derive(Clone)]
pub struct App {
    jobs: mpsc::SyncSender<Job>,
    metrics: Arc<Metrics>,
}

fn to_timestamp(t: Option<ProtoTimestamp>) -> cosmwasm_std::Timestamp {
    match t {
        Some(t) => {
            let secs = u64::try_from(t.seconds).unwrap_or(0);
            let nanos = u64::try_from(t.nanos).unwrap_or(0);
            cosmwasm_std::Timestamp::from_nanos(
                secs.saturating_mul(1_000_000_000).saturating_add(nanos),
            )
        }
        None => cosmwasm_std::Timestamp::from_nanos(0),
    }
}

impl App {
    /// Opens the state under `home` on a new machine thread, with the default mempool policy.
    pub fn start(home: PathBuf) -> anyhow::Result<App> {
        Self::start_with(home, NodeConfig::default())
    }

    /// Opens the state under `home` on a new machine thread with this node's mempool policy.
    pub fn start_with(home: PathBuf, node: NodeConfig) -> anyhow::Result<App> {
        let (tx, rx) = mpsc::sync_channel::<Job>(64);
        let (ready_tx, ready_rx) = mpsc::channel();
        let metrics = Arc::new(Metrics::new());
        let opened = Arc::clone(&metrics);
        std::thread::Builder::new()
            .name("usaged-machine".into())
            .spawn(move || {
                let mut machine = match Machine::open(&home) {
                    Ok(mut m) => {
                        m.set_node_config(node);
                        opened.set_height(m.committed().0);
                        let _ = ready_tx.send(Ok(()));
                        m
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                while let Ok(job) = rx.recv() {
                    job(&mut machine);
                }
            })?;
        ready_rx
            .recv()?
            .map_err(|e| anyhow::anyhow!("opening the state: {e}"))?;
        Ok(App { jobs: tx, metrics })
    }

    /// The metrics this node records, to serve them ([`crate::metrics::serve`]).
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Runs `f` on the machine thread and waits for its answer.
    fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut Machine) -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move |m| {
            let _ = tx.send(f(m));
        });
        if self.jobs.send(job).is_err() {
            tracing::error!("the state machine thread is gone; stopping");
            std::process::exit(1);
        }
        match rx.recv() {
            Ok(v) => v,
            Err(_) => {
                tracing::error!("the state machine stopped while answering; stopping");
                std::process::exit(1);
            }
        }
    }
}

/// Runs a query's `answer`; a panic inside it becomes an error answer instead of taking the node
/// down (queries only read: the machine's state is untouched either way).
fn contain_panic(
    path: &str,
    answer: impl FnOnce() -> queries::QueryAnswer,
) -> queries::QueryAnswer {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(answer)).unwrap_or_else(|_| {
        tracing::error!(%path, "a query panicked; answered with an error");
        queries::QueryAnswer {
            code: 1,
            codespace: "sdk".into(),
            log: "internal error while answering the query".into(),
            value: vec![],
            proof: None,
        }
    })
}

/// A node fault: log and stop the process (CometBFT will replay from the committed state).
fn halt(what: &str, e: impl std::fmt::Display) -> ! {
    tracing::error!(%e, "{what} failed: halting");
    std::process::exit(1);
}

impl Application for App {
    fn info(&self, _request: RequestInfo) -> ResponseInfo {
        let (height, app_hash) = self.run(|m| m.committed());
        ResponseInfo {
            data: "usaged".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            app_version: 1,
            last_block_height: i64::try_from(height).unwrap_or(i64::MAX),
            last_block_app_hash: if height == 0 {
                Default::default()
            } else {
                app_hash.to_vec().into()
            },
        }
    }

    fn init_chain(&self, request: RequestInitChain) -> ResponseInitChain {
        let initial = u64::try_from(request.initial_height).unwrap_or(1);
        let time = to_timestamp(request.time);
        let chain_id = request.chain_id.clone();
        let app_state = request.app_state_bytes.to_vec();
        let app_hash = self
            .run(move |m| m.init_chain(&chain_id, initial, time, &app_state))
            .unwrap_or_else(|e| halt("InitChain", e));
        ResponseInitChain {
            consensus_params: request.consensus_params,
            validators: request.validators,
            app_hash: app_hash.to_vec().into(),
        }
    }

    fn query(&self, request: RequestQuery) -> ResponseQuery {
        let path = request.path.clone();
        let data = request.data.to_vec();
        let prove = request.prove;
        let asked = request.height;
        let (answer, height) = self.run(move |m| {
            // A query must never take the node down: a panic while answering becomes an error
            // answer (queries only read; the machine's state is untouched).
            let answer = contain_panic(&path, || queries::answer_at(m, asked, &path, &data, prove));
            (answer, m.committed().0)
        });
        let proof_ops = answer
            .proof
            .map(|(key, data)| tendermint_proto::v0_38::crypto::ProofOps {
                ops: vec![tendermint_proto::v0_38::crypto::ProofOp {
                    r#type: queries::PROOF_OP_TYPE.into(),
                    key,
                    data,
                }],
            });
        ResponseQuery {
            code: answer.code,
            log: answer.log,
            info: String::new(),
            index: 0,
            key: request.data,
            value: answer.value.into(),
            proof_ops,
            height: i64::try_from(height).unwrap_or(i64::MAX),
            codespace: answer.codespace,
        }
    }

    fn check_tx(&self, request: RequestCheckTx) -> ResponseCheckTx {
        let raw = request.tx.to_vec();
        let recheck = request.r#type == CheckTxType::Recheck as i32;
        let outcome = self.run(move |m| m.check_tx(&raw, recheck));
        ResponseCheckTx {
            code: outcome.code,
            data: Default::default(),
            log: outcome.log,
            info: String::new(),
            gas_wanted: i64::try_from(outcome.gas_wanted).unwrap_or(i64::MAX),
            gas_used: i64::try_from(outcome.gas_used).unwrap_or(i64::MAX),
            events: vec![],
            codespace: outcome.codespace,
        }
    }

    fn commit(&self) -> ResponseCommit {
        let metrics = self.metrics();
        self.run(move |m| {
            let started = Instant::now();
            let committed = m.commit();
            if let Ok(height) = &committed {
                metrics.block_committed(*height, started.elapsed());
            }
            committed
        })
        .unwrap_or_else(|e| halt("Commit", e));
        ResponseCommit { retain_height: 0 }
    }

    fn prepare_proposal(&self, request: RequestPrepareProposal) -> ResponsePrepareProposal {
        let txs: Vec<Vec<u8>> = request.txs.iter().map(|t| t.to_vec()).collect();
        let max = u64::try_from(request.max_tx_bytes).unwrap_or(0);
        let chosen = self.run(move |m| m.prepare_proposal(&txs, max));
        ResponsePrepareProposal {
            txs: chosen.into_iter().map(Into::into).collect(),
        }
    }

    fn process_proposal(&self, request: RequestProcessProposal) -> ResponseProcessProposal {
        let txs: Vec<Vec<u8>> = request.txs.iter().map(|t| t.to_vec()).collect();
        let ok = self.run(move |m| m.process_proposal(&txs));
        ResponseProcessProposal {
            status: if ok {
                response_process_proposal::ProposalStatus::Accept as i32
            } else {
                response_process_proposal::ProposalStatus::Reject as i32
            },
        }
    }

    fn finalize_block(&self, request: RequestFinalizeBlock) -> ResponseFinalizeBlock {
        let height = u64::try_from(request.height).unwrap_or(0);
        let time = to_timestamp(request.time);
        let txs: Vec<Vec<u8>> = request.txs.iter().map(|t| t.to_vec()).collect();
        let metrics = self.metrics();
        let (outcomes, app_hash) = self
            .run(move |m| {
                let started = Instant::now();
                let finalized = m.finalize_block(height, time, &txs);
                if let Ok((outcomes, _)) = &finalized {
                    metrics.block_finalized(outcomes, started.elapsed());
                }
                finalized
            })
            .unwrap_or_else(|e| halt("FinalizeBlock", e));
        ResponseFinalizeBlock {
            events: vec![],
            tx_results: outcomes.iter().map(|o| o.to_exec_result()).collect(),
            validator_updates: vec![],
            consensus_param_updates: None,
            app_hash: app_hash.to_vec().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_answering_a_query_becomes_an_error_answer() {
        let answer = contain_panic("/test", || panic!("a bug in a query path"));
        assert_eq!((answer.codespace.as_str(), answer.code), ("sdk", 1));
        assert!(answer.value.is_empty());
    }
}
