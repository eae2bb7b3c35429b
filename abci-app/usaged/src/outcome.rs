//! What a transaction's run leaves behind, and how CometBFT records it: the [`TxOutcome`], the
//! SDK-shaped events every transaction carries (the ante handler's, each message's `message`
//! event) and their conversion to ABCI events. The state machine produces outcomes; the ABCI
//! server (`FinalizeBlock`, `CheckTx`) and the queries (`Simulate`) turn them into protobuf. They
//! live here, apart from both, so that a block's results, a simulation's and a mempool check's
//! carry the same codes and events.

use cosmwasm_std::Binary;
use tendermint_proto::v0_38::abci::{Event, EventAttribute, ExecTxResult};
use usaged_auth::AuthError;
use usaged_vm::events::ChainEvent;

/// The outcome of one transaction, as CometBFT records it.
#[derive(Debug, Clone, PartialEq)]
pub struct TxOutcome {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub data: Vec<u8>,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<ChainEvent>,
}

impl TxOutcome {
    /// Code 0 with the gas asked for and used, and nothing else.
    pub(crate) fn accepted(gas_wanted: u64, gas_used: u64) -> Self {
        TxOutcome {
            code: 0,
            codespace: String::new(),
            log: String::new(),
            data: vec![],
            gas_wanted,
            gas_used,
            events: vec![],
        }
    }

    pub(crate) fn failed(
        codespace: &str,
        code: u32,
        log: String,
        gas_wanted: u64,
        gas_used: u64,
    ) -> Self {
        TxOutcome {
            code,
            codespace: codespace.to_string(),
            log,
            ..TxOutcome::accepted(gas_wanted, gas_used)
        }
    }

    pub(crate) fn from_auth(e: &AuthError, gas_wanted: u64, gas_used: u64) -> Self {
        let (space, code) = e.abci_code();
        TxOutcome::failed(space, code, e.log(), gas_wanted, gas_used)
    }

    /// A transaction refused for too little gas, as the SDK words it.
    pub(crate) fn out_of_gas(location: &str, gas_wanted: u64, needed: u64) -> Self {
        TxOutcome::failed(
            "sdk",
            usaged_auth::sdk::ERR_OUT_OF_GAS,
            format!("out of gas in location: {location}; gasWanted: {gas_wanted}, gasUsed: {needed}: out of gas"),
            gas_wanted,
            gas_wanted,
        )
    }

    /// As CometBFT's protobuf, every attribute indexed.
    pub fn to_exec_result(&self) -> ExecTxResult {
        ExecTxResult {
            code: self.code,
            data: self.data.clone().into(),
            log: self.log.clone(),
            info: String::new(),
            gas_wanted: i64::try_from(self.gas_wanted).unwrap_or(i64::MAX),
            gas_used: i64::try_from(self.gas_used).unwrap_or(i64::MAX),
            events: to_abci_events(&self.events),
            codespace: self.codespace.clone(),
        }
    }
}

/// Chain events as ABCI events, every attribute indexed for CometBFT's kv indexer.
pub fn to_abci_events(events: &[ChainEvent]) -> Vec<Event> {
    events
        .iter()
        .map(|e| Event {
            r#type: e.ty.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|(k, v)| EventAttribute {
                    key: k.clone(),
                    value: v.clone(),
                    index: true,
                })
                .collect(),
        })
        .collect()
}

/// The SDK ante handler's events: `tx` with the fee and its payer (DeductFeeDecorator), `tx` with
/// the signer's sequence and `tx` with the signature (SetPubKeyDecorator), so explorers and
/// `tx_search` find a transaction by account whether its messages succeeded or not.
pub(crate) fn ante_events(tx: &usaged_auth::DecodedTx) -> Vec<ChainEvent> {
    let fee = tx
        .fee
        .amount
        .iter()
        .map(|c| format!("{}{}", c.amount, c.denom))
        .collect::<Vec<_>>()
        .join(",");
    vec![
        ChainEvent::new("tx")
            .attr("fee", fee)
            .attr("fee_payer", tx.signer.clone()),
        ChainEvent::new("tx").attr(
            "acc_seq",
            format!("{}/{}", tx.signer, tx.signer_info.sequence),
        ),
        ChainEvent::new("tx").attr("signature", Binary::from(tx.signature.clone()).to_base64()),
    ]
}

/// The `message` event the SDK emits before a message's own events.
pub(crate) fn message_event(msg: &usaged_auth::Msg) -> ChainEvent {
    ChainEvent::new("message")
        .attr("action", msg.type_url())
        .attr("sender", msg.sender())
        .attr("module", "wasm")
}
