//! wasmd's event layout for a contract call, and its validation of contract events.
//!
//! For one call of contract `C` the events are, in order: the call's own event (`execute`,
//! `instantiate`, `migrate` or `reply`) with `_contract_address` first; `wasm` with the contract's
//! attributes, only if it returned any; one `wasm-<type>` per contract event. The transaction
//! layer appends `msg_index` to every event of message `i`.

use cosmwasm_std::{Attribute, Event};
use thiserror::Error;

pub const CONTRACT_ADDRESS_KEY: &str = "_contract_address";

/// An event as the chain reports it: type and ordered attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEvent {
    pub ty: String,
    pub attributes: Vec<(String, String)>,
}

impl ChainEvent {
    pub fn new(ty: impl Into<String>) -> Self {
        ChainEvent {
            ty: ty.into(),
            attributes: vec![],
        }
    }

    pub fn attr(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((key.into(), value.into()));
        self
    }

    /// The value of the first attribute named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a contract's events were refused (the call fails, as in wasmd).
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    #[error("event type too short: {0:?}")]
    TypeTooShort(String),
    #[error("empty attribute key (value {value:?})")]
    EmptyKey { value: String },
    #[error("attribute key starts with the reserved prefix _: {0:?}")]
    ReservedKey(String),
}

fn check_attributes(attrs: &[Attribute]) -> Result<Vec<(String, String)>, EventError> {
    attrs
        .iter()
        .map(|a| {
            let key = a.key.trim();
            if key.is_empty() {
                return Err(EventError::EmptyKey {
                    value: a.value.clone(),
                });
            }
            if key.starts_with('_') {
                return Err(EventError::ReservedKey(key.to_string()));
            }
            Ok((key.to_string(), a.value.trim().to_string()))
        })
        .collect()
}

/// The events of one contract call in wasmd's layout. `action` is the call's own event type and
/// `extra` the attributes it carries after `_contract_address` (e.g. `code_id`).
pub fn contract_call_events(
    action: &str,
    contract: &str,
    extra: &[(&str, String)],
    attributes: &[Attribute],
    events: &[Event],
) -> Result<Vec<ChainEvent>, EventError> {
    let mut out = Vec::with_capacity(2 + events.len());
    let mut call = ChainEvent::new(action).attr(CONTRACT_ADDRESS_KEY, contract);
    for (k, v) in extra {
        call = call.attr(*k, v.clone());
    }
    out.push(call);
    if !attributes.is_empty() {
        let mut wasm = ChainEvent::new("wasm").attr(CONTRACT_ADDRESS_KEY, contract);
        wasm.attributes.extend(check_attributes(attributes)?);
        out.push(wasm);
    }
    for e in events {
        let ty = e.ty.trim();
        if ty.len() <= 2 {
            return Err(EventError::TypeTooShort(e.ty.clone()));
        }
        let mut custom = ChainEvent::new(format!("wasm-{ty}")).attr(CONTRACT_ADDRESS_KEY, contract);
        custom.attributes.extend(check_attributes(&e.attributes)?);
        out.push(custom);
    }
    Ok(out)
}

/// The number of attributes and attribute bytes a contract's response carries (for gas).
pub fn attribute_load(attributes: &[Attribute], events: &[Event]) -> (u64, u64) {
    let mut count = 0u64;
    let mut bytes = 0u64;
    for a in attributes
        .iter()
        .chain(events.iter().flat_map(|e| e.attributes.iter()))
    {
        count += 1;
        bytes += (a.key.len() + a.value.len()) as u64;
    }
    for e in events {
        bytes += e.ty.len() as u64;
    }
    (count, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_gets_wasmds_layout_with_the_contract_address_first() {
        let evs = contract_call_events(
            "execute",
            "usage1c",
            &[],
            &[Attribute::new("action", "submit")],
            &[Event::new("usage_proof").add_attribute("terminal_id", "t1")],
        )
        .unwrap();
        let types: Vec<&str> = evs.iter().map(|e| e.ty.as_str()).collect();
        assert_eq!(types, vec!["execute", "wasm", "wasm-usage_proof"]);
        for e in &evs {
            assert_eq!(
                e.attributes[0],
                (CONTRACT_ADDRESS_KEY.into(), "usage1c".into())
            );
        }
        assert_eq!(evs[2].get("terminal_id"), Some("t1"));
    }

    #[test]
    fn no_wasm_event_without_attributes_and_bad_events_are_refused() {
        let evs = contract_call_events("execute", "c", &[], &[], &[]).unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!(
            contract_call_events("execute", "c", &[], &[], &[Event::new(" ab ")]),
            Err(EventError::TypeTooShort(" ab ".into()))
        );
        let reserved = Event::new("abc").add_attributes(vec![Attribute {
            key: "_x".into(),
            value: "1".into(),
        }]);
        assert_eq!(
            contract_call_events("execute", "c", &[], &[], &[reserved]),
            Err(EventError::ReservedKey("_x".into()))
        );
        let empty = Event::new("abc").add_attributes(vec![Attribute {
            key: "  ".into(),
            value: "v".into(),
        }]);
        assert!(matches!(
            contract_call_events("execute", "c", &[], &[], &[empty]),
            Err(EventError::EmptyKey { .. })
        ));
    }
}
