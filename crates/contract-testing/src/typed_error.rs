//! A contract's own typed error, out of cw-multi-test.
//!
//! cw-multi-test 3 turns the error a contract returns into text, so a test could only compare
//! strings. A contract registered through [`capturing_entry_points!`](crate::capturing_entry_points)
//! keeps the typed error of its last failed entry point in a thread-local slot (each test runs on
//! its own thread) before handing the text on; [`typed`] and [`typed_or`] run one call and take
//! the error back out, so a suite's helpers return `Result<_, ContractError>` and tests assert
//! `Err(ContractError::X { .. })`.
//!
//! The slot holds the error of the *last* capturing entry point that failed during the call: when
//! a suite registers several contracts this way, a refusal deep in a sub-message shows up as that
//! contract's error type, which [`typed`] reports as not the called contract's own.

use std::any::Any;
use std::cell::RefCell;
use std::fmt::Display;

use cosmwasm_std::{StdError, StdResult};

thread_local! {
    /// The typed error of the last capturing entry point that failed on this thread.
    static LAST_ERROR: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Keeps the typed error of an entry point's result for [`typed`], and hands cw-multi-test its
/// text.
pub fn capture<T, E: Display + 'static>(result: Result<T, E>) -> StdResult<T> {
    result.map_err(|e| {
        let text = e.to_string();
        LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(Box::new(e)));
        StdError::msg(text)
    })
}

/// Runs one call and returns the typed error the called contract itself returned, or, for a
/// failure that did not come with an `E` (another contract, the framework), what `otherwise`
/// makes of the app's error.
pub fn typed_or<T, E: 'static>(
    call: impl FnOnce() -> StdResult<T>,
    otherwise: impl FnOnce(StdError) -> E,
) -> Result<T, E> {
    LAST_ERROR.with(|slot| slot.borrow_mut().take());
    let result = call();
    let captured = LAST_ERROR.with(|slot| slot.borrow_mut().take());
    result.map_err(|err| match captured.map(|b| b.downcast::<E>()) {
        Some(Ok(own)) => *own,
        _ => otherwise(err),
    })
}

/// Runs one call and returns the typed error the called contract itself returned. Panics if the
/// failure came from elsewhere (another contract, the framework), which fails the test.
#[track_caller]
pub fn typed<T, E: 'static>(call: impl FnOnce() -> StdResult<T>) -> Result<T, E> {
    // Not `typed_or`: a panic inside its closure would name this file rather than the test.
    LAST_ERROR.with(|slot| slot.borrow_mut().take());
    let result = call();
    let captured = LAST_ERROR.with(|slot| slot.borrow_mut().take());
    match result {
        Ok(value) => Ok(value),
        Err(err) => match captured.map(|b| b.downcast::<E>()) {
            Some(Ok(own)) => Err(*own),
            _ => panic!("not a {} error: {err:?}", std::any::type_name::<E>()),
        },
    }
}

/// Declares module `$module` with a contract's entry points, each keeping the contract's typed
/// error for [`typed`], and `$module::contract()` to store them in an app.
///
/// `$contract` is the path of the module holding the contract's `instantiate`, `execute`, `query`
/// and `migrate` (e.g. `crate::contract` or `ledger::contract`), `$msgs` the path of its message
/// types; both must be absolute, as they are used from inside `$module`.
#[macro_export]
macro_rules! capturing_entry_points {
    ($module:ident, $contract:path, $msgs:path) => {
        /// The contract's entry points, keeping its typed error for `typed`.
        mod $module {
            use $contract as entry;
            use $crate::__private::cosmwasm_std::{
                Binary, Deps, DepsMut, Empty, Env, MessageInfo, Response, StdResult,
            };
            use $crate::__private::cw_multi_test::{Contract, ContractWrapper};
            use $crate::__private::usage_common::msg::MigrateMsg;
            use $crate::capture;
            use $msgs as m;

            pub fn instantiate(
                deps: DepsMut,
                env: Env,
                info: MessageInfo,
                msg: m::InstantiateMsg,
            ) -> StdResult<Response> {
                capture(entry::instantiate(deps, env, info, msg))
            }

            pub fn execute(
                deps: DepsMut,
                env: Env,
                info: MessageInfo,
                msg: m::ExecuteMsg,
            ) -> StdResult<Response> {
                capture(entry::execute(deps, env, info, msg))
            }

            pub fn query(deps: Deps, env: Env, msg: m::QueryMsg) -> StdResult<Binary> {
                capture(entry::query(deps, env, msg))
            }

            pub fn migrate(deps: DepsMut, env: Env, msg: MigrateMsg) -> StdResult<Response> {
                capture(entry::migrate(deps, env, msg))
            }

            /// The contract as cw-multi-test stores it.
            pub fn contract() -> Box<dyn Contract<Empty>> {
                Box::new(ContractWrapper::new(execute, instantiate, query).with_migrate(migrate))
            }
        }
    };
}
