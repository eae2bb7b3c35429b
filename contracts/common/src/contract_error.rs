//! The conversions every contract's `ContractError` makes alike from the errors of this package.
//!
//! Each contract keeps its own error enum, so its tests assert its own variants; what a storage
//! error, a governance refusal or a refused migration becomes is the same in all five, and is
//! written here once.

/// Implements, for a contract's error enum `$error`, `From<StdError>` (into `Std(message)`),
/// `From<GovError>` (a refusal into `Governance(..)`, a storage error into `Std(message)`) and
/// `From<MigrateError>` (a refusal into `CannotMigrate { from_name, from_version }`), so entry
/// points and handlers use `?` on what [`governance`](crate::governance) and
/// [`migrate`](crate::migrate) return.
///
/// `$error` must have the variants `Std(String)`, `Governance(GovernanceError)` and
/// `CannotMigrate { from_name: String, from_version: String }`.
#[macro_export]
macro_rules! contract_error_conversions {
    ($error:ident) => {
        impl From<$crate::contract_error::StdError> for $error {
            fn from(e: $crate::contract_error::StdError) -> Self {
                $error::Std(e.to_string())
            }
        }

        impl From<$crate::governance::GovError> for $error {
            fn from(e: $crate::governance::GovError) -> Self {
                match e {
                    $crate::governance::GovError::Governance(g) => $error::Governance(g),
                    $crate::governance::GovError::Std(s) => $error::Std(s),
                }
            }
        }

        impl From<$crate::migrate::MigrateError> for $error {
            fn from(e: $crate::migrate::MigrateError) -> Self {
                match e {
                    $crate::migrate::MigrateError::Std(e) => e.into(),
                    $crate::migrate::MigrateError::Refused {
                        from_name,
                        from_version,
                    } => $error::CannotMigrate {
                        from_name,
                        from_version,
                    },
                }
            }
        }
    };
}

/// The storage error type the conversions name, whatever the contract imports.
#[doc(hidden)]
pub use cosmwasm_std::StdError;
