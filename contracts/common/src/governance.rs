//! What no single key may do at once. Every contract hands its admin over in two steps (the new
//! admin accepts), and changes that widen trust or move money's rules (fund movers, migrations,
//! the enclave allowlist, the software-TEE policy, dispute timing) wait in a timelock: queued with
//! an earliest time, visible to everyone through a query and an event, cancellable by the admin
//! until anyone applies them. Changes that only restrict (revoking a measurement, refusing
//! software TEEs, pausing) take effect at once.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{
    to_json_binary, Addr, CosmosMsg, DepsMut, Env, Event, MessageInfo, Order, Response, StdError,
    StdResult, Storage, WasmMsg,
};
use cw_storage_plus::{Item, Map};
use serde::{de::DeserializeOwned, Serialize};
use thiserror::Error;

/// The delay of a contract whose instantiation names none: one day.
pub const DEFAULT_TIMELOCK_SECONDS: u64 = 86_400;

/// Why a governance step was refused.
#[derive(Error, Debug, PartialEq, Eq, Clone)]
pub enum GovernanceError {
    #[error("only the admin may do this")]
    NotAdmin,
    #[error("only the proposed admin may accept, and none is proposed for {sender}")]
    NotPendingAdmin { sender: String },
    #[error("no queued change {id}")]
    NoSuchChange { id: u64 },
    #[error("change {id} may be applied from {eta} on, it is {now}")]
    TooEarly { id: u64, eta: u64, now: u64 },
    #[error("this change widens trust: queue it in the timelock")]
    Timelocked,
}

/// The governance steps every contract takes, as one execute variant `governance`.
#[cw_serde]
pub enum GovernanceMsg<C> {
    /// Admin: names the next admin (nothing changes until it accepts).
    ProposeAdmin { admin: String },
    /// The proposed admin: takes over.
    AcceptAdmin {},
    /// Admin: queues a change in the timelock.
    QueueChange { change: C },
    /// Anyone: applies a queued change once its time has come.
    ApplyChange { id: u64 },
    /// Admin: drops a queued change.
    CancelChange { id: u64 },
}

/// What a governance step leaves for the contract to do.
pub enum Step<C> {
    /// Nothing more: the event says what happened.
    Done(Event),
    /// Store `new_admin` as the admin.
    NewAdmin(Addr, Event),
    /// Apply `change` now (its time has come).
    Apply(C, Event),
}

/// The message by which a contract that is its own chain-level admin migrates itself to
/// `code_id`: the only way it changes code, and only through its timelock.
pub fn migrate_self(env: &Env, code_id: u64) -> StdResult<CosmosMsg> {
    Ok(WasmMsg::Migrate {
        contract_addr: env.contract.address.to_string(),
        new_code_id: code_id,
        msg: to_json_binary(&crate::msg::MigrateMsg {})?,
    }
    .into())
}

/// Applies a queued `Migrate { code_id }` change: the contract migrates itself to `code_id`.
pub fn apply_migrate(env: &Env, code_id: u64) -> StdResult<Response> {
    Ok(Response::new().add_message(migrate_self(env, code_id)?))
}

/// A contract's stored configuration, which holds its admin: governance reads the admin from it
/// and stores it back with the new admin when the proposed one accepts.
pub trait Administered: Serialize + DeserializeOwned {
    fn admin_mut(&mut self) -> &mut Addr;
}

/// A change waiting in the timelock.
#[cw_serde]
pub struct Queued<C> {
    pub id: u64,
    pub change: C,
    pub queued_at: u64,
    /// The earliest block time it may be applied at.
    pub eta: u64,
}

#[cw_serde]
pub struct GovernanceResponse {
    pub admin: Addr,
    pub pending_admin: Option<Addr>,
    pub timelock_seconds: u64,
}

#[cw_serde]
pub struct PendingChangesResponse<C> {
    pub changes: Vec<Queued<C>>,
}

/// The admin a contract proposed, and its timelock. The admin itself lives in the contract's
/// configuration; every step here is given it.
pub struct Governance<C> {
    pending_admin: Item<Addr>,
    delay: Item<u64>,
    queue: Map<u64, Queued<C>>,
    next_id: Item<u64>,
}

/// The storage of every contract's governance, under keys no contract uses otherwise.
pub const fn governance<C>() -> Governance<C> {
    Governance {
        pending_admin: Item::new("gov_pending"),
        delay: Item::new("gov_delay"),
        queue: Map::new("gov_queue"),
        next_id: Item::new("gov_next"),
    }
}

impl<C: Serialize + DeserializeOwned + Clone + std::fmt::Debug> Governance<C> {
    /// Sets the delay (a contract that never set one waits [`DEFAULT_TIMELOCK_SECONDS`]).
    pub fn init(&self, storage: &mut dyn Storage, delay: u64) -> StdResult<()> {
        self.delay.save(storage, &delay)
    }

    /// The delay of a queued change.
    pub fn delay(&self, storage: &dyn Storage) -> StdResult<u64> {
        Ok(self
            .delay
            .may_load(storage)?
            .unwrap_or(DEFAULT_TIMELOCK_SECONDS))
    }

    /// Only the admin.
    pub fn authorize(admin: &Addr, sender: &Addr) -> Result<(), GovError> {
        if admin != sender {
            return Err(GovernanceError::NotAdmin.into());
        }
        Ok(())
    }

    /// The admin names its successor; nothing changes until the successor accepts.
    pub fn propose_admin(
        &self,
        storage: &mut dyn Storage,
        admin: &Addr,
        sender: &Addr,
        next: &Addr,
    ) -> Result<Event, GovError> {
        Self::authorize(admin, sender)?;
        self.pending_admin.save(storage, next)?;
        Ok(Event::new("admin_proposed").add_attribute("admin", next.as_str()))
    }

    /// The proposed admin takes over: the caller stores `sender` as its admin.
    pub fn accept_admin(
        &self,
        storage: &mut dyn Storage,
        sender: &Addr,
    ) -> Result<Event, GovError> {
        if self.pending_admin.may_load(storage)?.as_ref() != Some(sender) {
            return Err(GovernanceError::NotPendingAdmin {
                sender: sender.to_string(),
            }
            .into());
        }
        self.pending_admin.remove(storage);
        Ok(Event::new("admin_accepted").add_attribute("admin", sender.as_str()))
    }

    /// The admin queues `change`; it may be applied `delay` seconds from `now`.
    pub fn queue(
        &self,
        storage: &mut dyn Storage,
        admin: &Addr,
        sender: &Addr,
        now: u64,
        change: C,
    ) -> Result<(Queued<C>, Event), GovError> {
        Self::authorize(admin, sender)?;
        let id = self.next_id.may_load(storage)?.unwrap_or(1);
        self.next_id.save(storage, &(id + 1))?;
        let eta = now.saturating_add(self.delay(storage)?);
        let queued = Queued {
            id,
            change,
            queued_at: now,
            eta,
        };
        self.queue.save(storage, id, &queued)?;
        let event = Event::new("change_queued")
            .add_attribute("id", id.to_string())
            .add_attribute("eta", eta.to_string())
            .add_attribute("change", format!("{:?}", queued.change));
        Ok((queued, event))
    }

    /// Anyone, once the change's time has come: takes it out of the queue to be applied.
    pub fn take_ready(
        &self,
        storage: &mut dyn Storage,
        now: u64,
        id: u64,
    ) -> Result<(C, Event), GovError> {
        let queued = self
            .queue
            .may_load(storage, id)?
            .ok_or(GovernanceError::NoSuchChange { id })?;
        if now < queued.eta {
            return Err(GovernanceError::TooEarly {
                id,
                eta: queued.eta,
                now,
            }
            .into());
        }
        self.queue.remove(storage, id);
        Ok((
            queued.change,
            Event::new("change_applied").add_attribute("id", id.to_string()),
        ))
    }

    /// The admin drops a queued change.
    pub fn cancel(
        &self,
        storage: &mut dyn Storage,
        admin: &Addr,
        sender: &Addr,
        id: u64,
    ) -> Result<Event, GovError> {
        Self::authorize(admin, sender)?;
        if !self.queue.has(storage, id) {
            return Err(GovernanceError::NoSuchChange { id }.into());
        }
        self.queue.remove(storage, id);
        Ok(Event::new("change_cancelled").add_attribute("id", id.to_string()))
    }

    /// Runs one governance step for a contract whose admin is `admin`.
    pub fn handle(
        &self,
        storage: &mut dyn Storage,
        admin: &Addr,
        sender: &Addr,
        now: u64,
        msg: GovernanceMsg<C>,
        validate: &dyn Fn(&str) -> StdResult<Addr>,
    ) -> Result<Step<C>, GovError> {
        Ok(match msg {
            GovernanceMsg::ProposeAdmin { admin: next } => {
                let next = validate(&next)?;
                Step::Done(self.propose_admin(storage, admin, sender, &next)?)
            }
            GovernanceMsg::AcceptAdmin {} => {
                let event = self.accept_admin(storage, sender)?;
                Step::NewAdmin(sender.clone(), event)
            }
            GovernanceMsg::QueueChange { change } => {
                Step::Done(self.queue(storage, admin, sender, now, change)?.1)
            }
            GovernanceMsg::ApplyChange { id } => {
                let (change, event) = self.take_ready(storage, now, id)?;
                Step::Apply(change, event)
            }
            GovernanceMsg::CancelChange { id } => {
                Step::Done(self.cancel(storage, admin, sender, id)?)
            }
        })
    }

    /// Runs a contract's `Governance` message from start to end: loads the contract's
    /// configuration from `config`, runs the step for its admin, stores the new admin when the
    /// proposed one accepts, and hands a queued change whose time has come to `apply`, with the
    /// configuration as loaded. The response holds what `apply` returned, then the step's event.
    ///
    /// Only `apply` differs between contracts: it applies the contract's own changes, and
    /// `Timelock`/`Migrate` through [`Governance::apply_timelock`] and [`apply_migrate`].
    pub fn execute<T: Administered, E: From<GovError> + From<StdError>>(
        &self,
        deps: DepsMut,
        env: &Env,
        info: &MessageInfo,
        config: &Item<T>,
        msg: GovernanceMsg<C>,
        apply: impl FnOnce(DepsMut, T, C) -> Result<Response, E>,
    ) -> Result<Response, E> {
        let mut stored = config.load(deps.storage)?;
        let api = deps.api;
        let step = self.handle(
            deps.storage,
            stored.admin_mut(),
            &info.sender,
            env.block.time.seconds(),
            msg,
            &|a| api.addr_validate(a),
        )?;
        let (response, event) = match step {
            Step::Done(event) => (Response::new(), event),
            Step::NewAdmin(admin, event) => {
                *stored.admin_mut() = admin;
                config.save(deps.storage, &stored)?;
                (Response::new(), event)
            }
            Step::Apply(change, event) => (apply(deps, stored, change)?, event),
        };
        Ok(response.add_event(event))
    }

    /// Sets the delay itself (a queued change of its own).
    pub fn set_delay(&self, storage: &mut dyn Storage, delay: u64) -> StdResult<()> {
        self.delay.save(storage, &delay)
    }

    /// Applies a queued `Timelock { seconds }` change: later changes wait `seconds`.
    pub fn apply_timelock(&self, storage: &mut dyn Storage, seconds: u64) -> StdResult<Response> {
        self.set_delay(storage, seconds)?;
        Ok(Response::new())
    }

    pub fn info(&self, storage: &dyn Storage, admin: &Addr) -> StdResult<GovernanceResponse> {
        Ok(GovernanceResponse {
            admin: admin.clone(),
            pending_admin: self.pending_admin.may_load(storage)?,
            timelock_seconds: self.delay(storage)?,
        })
    }

    /// [`Governance::info`] of a contract whose configuration (holding its admin) is `config`.
    pub fn info_of<T: Administered>(
        &self,
        storage: &dyn Storage,
        config: &Item<T>,
    ) -> StdResult<GovernanceResponse> {
        let mut stored = config.load(storage)?;
        self.info(storage, stored.admin_mut())
    }

    /// Every queued change, oldest first (at most 100).
    pub fn pending(&self, storage: &dyn Storage) -> StdResult<PendingChangesResponse<C>> {
        let changes = self
            .queue
            .range(storage, None, None, Order::Ascending)
            .take(100)
            .map(|r| r.map(|(_, q)| q))
            .collect::<StdResult<Vec<_>>>()?;
        Ok(PendingChangesResponse { changes })
    }
}

/// A governance refusal or a storage error.
#[derive(Error, Debug, PartialEq)]
pub enum GovError {
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    #[error("{0}")]
    Std(String),
}

impl From<StdError> for GovError {
    fn from(e: StdError) -> Self {
        GovError::Std(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    #[cw_serde]
    enum Change {
        Widen { to: u64 },
    }

    const GOV: Governance<Change> = governance();

    #[test]
    fn a_queued_change_waits_for_its_time_and_the_admin_may_cancel_it() {
        let mut s = MockStorage::new();
        let (admin, mallory) = (Addr::unchecked("admin"), Addr::unchecked("mallory"));
        GOV.init(&mut s, 100).unwrap();
        assert_eq!(
            GOV.queue(&mut s, &admin, &mallory, 10, Change::Widen { to: 1 })
                .unwrap_err(),
            GovernanceError::NotAdmin.into()
        );
        let (q, _) = GOV
            .queue(&mut s, &admin, &admin, 10, Change::Widen { to: 1 })
            .unwrap();
        assert_eq!(q.eta, 110);
        assert_eq!(GOV.pending(&s).unwrap().changes, vec![q.clone()]);
        assert_eq!(
            GOV.take_ready(&mut s, 109, q.id).unwrap_err(),
            GovernanceError::TooEarly {
                id: q.id,
                eta: 110,
                now: 109
            }
            .into()
        );
        let (change, _) = GOV.take_ready(&mut s, 110, q.id).unwrap();
        assert_eq!(change, Change::Widen { to: 1 });
        // Applied once.
        assert_eq!(
            GOV.take_ready(&mut s, 200, q.id).unwrap_err(),
            GovernanceError::NoSuchChange { id: q.id }.into()
        );
        let (q2, _) = GOV
            .queue(&mut s, &admin, &admin, 10, Change::Widen { to: 2 })
            .unwrap();
        assert!(GOV.cancel(&mut s, &admin, &mallory, q2.id).is_err());
        GOV.cancel(&mut s, &admin, &admin, q2.id).unwrap();
        assert!(GOV.take_ready(&mut s, 1_000, q2.id).is_err());
    }

    #[test]
    fn the_admin_changes_only_when_the_proposed_admin_accepts() {
        let mut s = MockStorage::new();
        let (admin, next, mallory) = (
            Addr::unchecked("admin"),
            Addr::unchecked("next"),
            Addr::unchecked("mallory"),
        );
        GOV.init(&mut s, 100).unwrap();
        assert!(GOV
            .propose_admin(&mut s, &admin, &mallory, &mallory)
            .is_err());
        GOV.propose_admin(&mut s, &admin, &admin, &next).unwrap();
        assert_eq!(
            GOV.info(&s, &admin).unwrap().pending_admin,
            Some(next.clone())
        );
        assert!(GOV.accept_admin(&mut s, &mallory).is_err());
        GOV.accept_admin(&mut s, &next).unwrap();
        assert_eq!(GOV.info(&s, &next).unwrap().pending_admin, None);
    }
}
