//! What tenants and providers do by hand: leases, balances, deposits, withdrawals, disputes,
//! and reading proofs, periods and settlements.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use cosmwasm_std::{HexBinary, Uint128};
use serde::Serialize;
use serde_json::{json, Value};
use usage_client::ChainClient;
use usage_common::msg::{
    ledger as c4, period_proof as c2, settlement as c3, usage_proof as c1, withdrawal as c5,
};
use usage_sample::simulate::{terminal_id, SimulatedKey};
use usage_sample::tee::{software_measurement, TeeBackend, TeeKind};

use crate::{Answer, Ctx, TX_WAIT};

/// The signing key of a command: a key of the keyring or a key file.
#[derive(Args, Clone)]
pub struct KeyArgs {
    /// The keyring key that signs (`usage keys list`).
    #[arg(long, conflicts_with = "key_file")]
    from: Option<String>,
    /// A secp256k1 key file (mode 0600, 64 hex digits) that signs.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

/// How much gas a transaction may use.
#[derive(Args, Clone)]
pub struct GasArgs {
    /// `auto` (simulate, times --gas-adjustment) or a number.
    #[arg(long, default_value = "auto")]
    gas: String,
    /// What `--gas auto` multiplies the simulated gas by.
    #[arg(long, default_value_t = 1.3)]
    gas_adjustment: f64,
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// A tenant's leases of terminals on C1 (signed by the tenant).
    #[command(subcommand)]
    Lease(LeaseCommand),
    /// A terminal's leases, oldest first.
    Leases {
        terminal: String,
        #[arg(long)]
        usage_proof: Option<String>,
    },
    /// An account's balance on C4 (available and locked), in the ledger's minor units.
    Balance {
        /// The account [default: the signing key's, with --from or --key-file].
        address: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        ledger: Option<String>,
    },
    /// Pays into the platform's custodial account at the bank with the chain address as the
    /// reference (on a localnet: through the simulated bank's customer API); the relayer has
    /// it credited on C4.
    Deposit {
        /// Minor units.
        #[arg(long)]
        amount: u128,
        /// Your bank account, debited.
        #[arg(long)]
        bank_account: String,
        /// The chain account to credit [default: the signing key's].
        #[arg(long)]
        address: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
        /// The platform's custodial account at the bank [default: the client configuration's
        /// `custodial_account`].
        #[arg(long)]
        custodial: Option<String>,
        /// The bank's customer API [default: the client configuration's `bank`].
        #[arg(long)]
        bank: Option<String>,
        /// Wait until C4 has credited it (at most this many seconds; 0: do not wait).
        #[arg(long, default_value_t = 60)]
        wait: u64,
        #[arg(long)]
        ledger: Option<String>,
    },
    /// Asks C5 to pay part of the signing account's balance to its bank account.
    Withdraw {
        /// Minor units.
        #[arg(long)]
        amount: u128,
        /// The bank account to pay (IBAN-like).
        #[arg(long)]
        beneficiary: String,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        gas: GasArgs,
        /// C5's address [default: the client configuration's].
        #[arg(long)]
        withdrawal: Option<String>,
    },
    /// Withdrawals, of one owner or all, oldest first.
    Withdrawals {
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        withdrawal: Option<String>,
    },
    /// Disputes over second proofs (signed by the tenant).
    #[command(subcommand)]
    Dispute(DisputeCommand),
    /// A terminal's first proofs (one per window), oldest first.
    Proofs {
        terminal: String,
        /// From this window start (seconds).
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// Up to this window start.
        #[arg(long, default_value_t = u64::MAX)]
        until: u64,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        usage_proof: Option<String>,
    },
    /// The second proof of a (provider, tenant, period).
    Period {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        tenant: String,
        /// The period's first second.
        #[arg(long)]
        start: u64,
        #[arg(long)]
        period_proof: Option<String>,
    },
    /// Settlements, oldest first, optionally of one tenant or provider.
    Settlements {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        settlement: Option<String>,
    },
    /// Registers a simulated fleet's terminals on C1 (`usage-attestor simulate` with the same
    /// label), 50 per transaction, signed by C1's admin.
    RegisterFleet {
        /// The provider the terminals belong to.
        #[arg(long)]
        provider: String,
        #[arg(long, default_value = "sim")]
        label: String,
        #[arg(long)]
        terminals: u64,
        #[arg(long, default_value_t = 0)]
        first: u64,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        usage_proof: Option<String>,
    },
    /// The signing tenant leases a simulated fleet's terminals, 50 per transaction.
    OpenLeases {
        /// The terminals' provider.
        #[arg(long)]
        provider: String,
        #[arg(long, default_value = "sim")]
        label: String,
        #[arg(long)]
        terminals: u64,
        #[arg(long, default_value_t = 0)]
        first: u64,
        /// The leases' first second, a multiple of the window length (0: every window).
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// The most each lease may be billed per period (minor units).
        #[arg(long)]
        price_cap: Option<u128>,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        usage_proof: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum LeaseCommand {
    /// Leases a terminal from its provider, from `--start` (a window boundary) until `--end`
    /// or open-ended, optionally capped per period.
    Open {
        #[arg(long)]
        terminal: String,
        #[arg(long)]
        provider: String,
        #[arg(long, default_value_t = 0)]
        start: u64,
        #[arg(long)]
        end: Option<u64>,
        /// The most the lease may be billed per period (minor units).
        #[arg(long)]
        price_cap: Option<u128>,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        gas: GasArgs,
        #[arg(long)]
        usage_proof: Option<String>,
    },
    /// Ends the lease that started at `--start` at `--end` (no earlier than the end of the
    /// current window).
    Close {
        #[arg(long)]
        terminal: String,
        #[arg(long)]
        start: u64,
        #[arg(long)]
        end: u64,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        gas: GasArgs,
        #[arg(long)]
        usage_proof: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DisputeCommand {
    /// Disputes a proven period within its dispute window; locks the dispute bond.
    Open {
        #[arg(long)]
        provider: String,
        /// The period's first second.
        #[arg(long)]
        period: u64,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        gas: GasArgs,
        #[arg(long)]
        period_proof: Option<String>,
    },
}

impl Ctx {
    /// A client signing with `key`'s key.
    pub fn signer(&self, key: &KeyArgs) -> anyhow::Result<ChainClient> {
        let secret = match (&key.from, &key.key_file) {
            (_, Some(file)) => usage_service::secret::read_key(file)?.expose().to_vec(),
            (Some(name), None) => crate::keyring_secret(&self.keyring_dir(), name)?,
            (None, None) => bail!("name the signing key: --from NAME or --key-file FILE"),
        };
        Ok(self.chain()?.with_key(&secret)?)
    }

    /// The address of `key`'s key, if one is named.
    fn address_of(&self, key: &KeyArgs) -> anyhow::Result<Option<String>> {
        if key.from.is_none() && key.key_file.is_none() {
            return Ok(None);
        }
        if let Some(name) = &key.from {
            if key.key_file.is_none() {
                return Ok(Some(crate::keyring_address(&self.keyring_dir(), name)?));
            }
        }
        Ok(self.signer(key)?.address().map(str::to_string))
    }

    pub fn keyring_dir(&self) -> PathBuf {
        self.config
            .keyring
            .clone()
            .unwrap_or_else(|| self.home.join("keyring"))
    }
}

/// Signs and broadcasts one execution and waits for its block; fails if it was refused.
async fn execute<M: Serialize>(
    signer: &ChainClient,
    contract: &str,
    msg: &M,
    gas: &GasArgs,
) -> anyhow::Result<usage_client::TxOutcome> {
    let bytes = serde_json::to_vec(msg)?;
    let limit = if gas.gas == "auto" {
        let used = signer
            .simulate(&[(contract.to_string(), bytes.clone())])
            .await
            .context("simulating the transaction")?;
        adjusted(used, gas.gas_adjustment)?
    } else {
        gas.gas
            .parse()
            .with_context(|| format!("--gas {}: `auto` or a number", gas.gas))?
    };
    let hash = signer
        .broadcast(&[(contract.to_string(), bytes)], limit)
        .await?;
    let out = signer.wait_tx(&hash, TX_WAIT).await?;
    if !out.is_ok() {
        bail!("refused: {}", out.log);
    }
    Ok(out)
}

/// The most gas the chain lets one transaction ask for.
const MAX_TX_GAS: u64 = 60_000_000;

/// `used` times `adjustment`, rounded up, at least `used` and at most [`MAX_TX_GAS`] (a
/// transaction that needs more cannot be sent at all).
fn adjusted(used: u64, adjustment: f64) -> anyhow::Result<u64> {
    anyhow::ensure!(
        adjustment.is_finite() && adjustment >= 1.0,
        "--gas-adjustment must be a number of at least 1"
    );
    anyhow::ensure!(used > 0, "the simulation reported no gas used");
    anyhow::ensure!(
        used <= MAX_TX_GAS,
        "the transaction needs {used} gas, more than the chain allows ({MAX_TX_GAS})"
    );
    // Gas figures stay far below 2^52, where f64 is exact.
    let scaled = (used as f64 * adjustment).ceil();
    Ok(if scaled >= MAX_TX_GAS as f64 {
        MAX_TX_GAS
    } else {
        (scaled as u64).max(used)
    })
}

fn tx_answer(what: &str, out: &usage_client::TxOutcome, extra: Value) -> Answer {
    let mut v = json!({"tx_hash": out.hash, "height": out.height, "gas_used": out.gas_used});
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    Answer::new(v).text(format!(
        "{what}: tx {} in block {} ({} gas)\n",
        out.hash, out.height, out.gas_used
    ))
}

/// Minor units with two decimals.
fn money(minor: u128) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

pub async fn run(cmd: TenantCommand, ctx: &Ctx) -> anyhow::Result<Answer> {
    match cmd {
        TenantCommand::Lease(LeaseCommand::Open {
            terminal,
            provider,
            start,
            end,
            price_cap,
            key,
            gas,
            usage_proof,
        }) => {
            let c1a = ctx.contract("usage-proof", usage_proof)?;
            let msg = c1::ExecuteMsg::OpenLease {
                terminal_id: terminal.clone(),
                provider,
                start,
                end,
                price_cap: price_cap.map(Uint128::new),
            };
            let out = execute(&ctx.signer(&key)?, &c1a, &msg, &gas).await?;
            Ok(tx_answer(
                &format!("leased {terminal} from {start}"),
                &out,
                json!({"terminal": terminal, "start": start}),
            ))
        }
        TenantCommand::Lease(LeaseCommand::Close {
            terminal,
            start,
            end,
            key,
            gas,
            usage_proof,
        }) => {
            let c1a = ctx.contract("usage-proof", usage_proof)?;
            let msg = c1::ExecuteMsg::CloseLease {
                terminal_id: terminal.clone(),
                start,
                end,
            };
            let out = execute(&ctx.signer(&key)?, &c1a, &msg, &gas).await?;
            Ok(tx_answer(
                &format!("the lease of {terminal} ends at {end}"),
                &out,
                json!({"terminal": terminal, "end": end}),
            ))
        }
        TenantCommand::Leases {
            terminal,
            usage_proof,
        } => {
            let c1a = ctx.contract("usage-proof", usage_proof)?;
            let r: Value = ctx
                .chain()?
                .smart(
                    &c1a,
                    &c1::QueryMsg::Leases {
                        terminal_id: terminal,
                        start_after: None,
                        limit: Some(100),
                    },
                )
                .await?;
            Ok(Answer::new(r))
        }
        TenantCommand::Balance {
            address,
            key,
            ledger,
        } => {
            let address = match address {
                Some(a) => a,
                None => ctx
                    .address_of(&key)?
                    .context("name the account: an ADDRESS, --from NAME or --key-file FILE")?,
            };
            let c4a = ctx.contract("ledger", ledger)?;
            let r: c4::AccountResponse = ctx
                .chain()?
                .smart(
                    &c4a,
                    &c4::QueryMsg::Account {
                        address: address.clone(),
                    },
                )
                .await?;
            Ok(
                Answer::new(json!({"address": address, "available": r.available,
                "locked": r.locked}))
                .text(format!(
                    "{address}\n  available {:>16}\n  locked    {:>16}\n",
                    money(r.available.u128()),
                    money(r.locked.u128())
                )),
            )
        }
        TenantCommand::Deposit {
            amount,
            bank_account,
            address,
            key,
            custodial,
            bank,
            wait,
            ledger,
        } => {
            // Everything that can fail is settled before the bank is asked to move money.
            let address = match address {
                Some(a) => a,
                None => ctx
                    .address_of(&key)?
                    .context("name the account to credit: --address, --from or --key-file")?,
            };
            usaged_auth::validate_address(&address)
                .map_err(|e| anyhow::anyhow!("{address} is not an account address: {e}"))?;
            anyhow::ensure!(amount > 0, "--amount must be more than 0");
            let bank = bank
                .or_else(|| ctx.config.bank.clone())
                .context("no bank: pass --bank URL or set it with `usage config set bank URL`")?;
            let custodial = custodial
                .or_else(|| ctx.config.custodial_account.clone())
                .context(
                    "no custodial account: pass --custodial IBAN or set it with \
                     `usage config set custodial_account IBAN`",
                )?;
            let credit_check = if wait > 0 {
                let c4a = ctx.contract("ledger", ledger)?;
                let chain = ctx.chain()?;
                chain
                    .status()
                    .await
                    .context("the node, to see the credit")?;
                Some((chain, c4a))
            } else {
                None
            };
            let r = reqwest::Client::new()
                .post(format!("{bank}/v1/transfers"))
                .json(&json!({"from": bank_account, "to": custodial,
                    "amount": amount.to_string(), "remittance": address}))
                .send()
                .await
                .with_context(|| format!("the bank at {bank}"))?;
            let status = r.status();
            let body: Value = r.json().await.unwrap_or_default();
            if !status.is_success() {
                bail!("the bank refused the transfer ({status}): {body}");
            }
            let bank_ref = body["bank_ref"]
                .as_str()
                .context("the bank's answer names no bank_ref")?
                .to_string();
            let mut credited = None;
            if let Some((chain, c4a)) = credit_check {
                eprintln!("paid at the bank ({bank_ref}); waiting for C4 to credit {address}");
                let started = std::time::Instant::now();
                while started.elapsed() < Duration::from_secs(wait) {
                    // C4 records each credited bank reference once.
                    let r: c4::DepositResponse = chain
                        .smart(
                            &c4a,
                            &c4::QueryMsg::Deposit {
                                bank_ref: bank_ref.clone(),
                            },
                        )
                        .await?;
                    if let Some(d) = r.deposit {
                        credited = Some(d);
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                if credited.is_none() {
                    bail!(
                        "paid at the bank ({bank_ref}) but not yet credited on C4 after {wait} s: \
                         the relayer credits it once the committee has signed (do not pay again; \
                         `usage query` C4 {{\"deposit\":{{\"bank_ref\":\"{bank_ref}\"}}}})"
                    );
                }
            }
            Ok(Answer::new(json!({"bank_ref": bank_ref, "address": address,
                "amount": amount.to_string(), "credited": credited}))
            .text(format!(
                "paid {} into {custodial} for {address} (bank ref {bank_ref}){}\n",
                money(amount),
                credited
                    .map(|d| format!("; credited on C4 at height {}", d.height))
                    .unwrap_or_default()
            )))
        }
        TenantCommand::Withdraw {
            amount,
            beneficiary,
            key,
            gas,
            withdrawal,
        } => {
            let c5a = ctx.contract("withdrawal", withdrawal)?;
            let wallet = ctx.signer(&key)?;
            let owner = wallet.address().unwrap_or_default().to_string();
            let msg = c5::ExecuteMsg::RequestWithdrawal {
                amount: Uint128::new(amount),
                beneficiary,
            };
            let out = execute(&wallet, &c5a, &msg, &gas).await?;
            // The owner's newest withdrawal: the last of its withdrawals.
            let newest = withdrawals_of(&wallet, &c5a, Some(owner)).await?.pop();
            let w = newest.context("the withdrawal is not on chain")?;
            Ok(Answer::new(
                json!({"withdrawal_id": w.withdrawal_id, "tx_hash": out.hash,
                "height": out.height, "gas_used": out.gas_used, "status": w.status}),
            )
            .text(format!(
                "withdrawal {} of {} requested in block {} (tx {}); status {:?}\n",
                w.withdrawal_id,
                money(amount),
                out.height,
                out.hash,
                w.status
            )))
        }
        TenantCommand::Withdrawals {
            owner,
            key,
            withdrawal,
        } => {
            let owner = match owner {
                Some(o) => Some(o),
                None => ctx.address_of(&key)?,
            };
            let c5a = ctx.contract("withdrawal", withdrawal)?;
            let chain = ctx.chain()?;
            let all = withdrawals_of(&chain, &c5a, owner).await?;
            let mut text = String::new();
            for w in &all {
                text += &format!(
                    "#{:<4} {} {:>14}  to {:<22} {:?}\n",
                    w.withdrawal_id,
                    w.owner,
                    money(w.amount.u128()),
                    w.beneficiary,
                    w.status
                );
            }
            if all.is_empty() {
                text = "no withdrawals\n".into();
            }
            Ok(Answer::new(json!({"withdrawals": all})).text(text))
        }
        TenantCommand::Dispute(DisputeCommand::Open {
            provider,
            period,
            reason,
            key,
            gas,
            period_proof,
        }) => {
            let c2a = ctx.contract("period-proof", period_proof)?;
            let tenant = ctx.signer(&key)?;
            let msg = c2::ExecuteMsg::OpenDispute {
                provider,
                tenant: tenant.address().unwrap_or_default().to_string(),
                period_start: period,
                reason,
            };
            let out = execute(&tenant, &c2a, &msg, &gas).await?;
            Ok(tx_answer(
                &format!("disputed period {period}"),
                &out,
                json!({"period_start": period}),
            ))
        }
        TenantCommand::Proofs {
            terminal,
            since,
            until,
            limit,
            usage_proof,
        } => {
            let c1a = ctx.contract("usage-proof", usage_proof)?;
            let r: c1::ProofsResponse = ctx
                .chain()?
                .smart(
                    &c1a,
                    &c1::QueryMsg::TerminalProofs {
                        terminal_id: terminal.clone(),
                        from: since,
                        to: until,
                        limit: Some(limit),
                    },
                )
                .await?;
            let mut text = format!(
                "{terminal}: {} first proofs\n  {:>12}  {:>6}  {:>14} {:>14} {:>12}  tenant\n",
                r.proofs.len(),
                "window",
                "batch",
                "rx bytes",
                "tx bytes",
                "cpu µs"
            );
            for p in &r.proofs {
                text += &format!(
                    "  {:>12}  {:>6}  {:>14} {:>14} {:>12}  {}\n",
                    p.window_start,
                    p.batch_id,
                    p.metrics.net_rx_bytes,
                    p.metrics.net_tx_bytes,
                    p.metrics.cpu_time_us,
                    p.tenant
                );
            }
            Ok(Answer::new(serde_json::to_value(&r)?).text(text))
        }
        TenantCommand::Period {
            provider,
            tenant,
            start,
            period_proof,
        } => {
            let c2a = ctx.contract("period-proof", period_proof)?;
            let r: c2::PeriodProofResponse = ctx
                .chain()?
                .smart(
                    &c2a,
                    &c2::QueryMsg::PeriodProof {
                        provider,
                        tenant,
                        period_start: start,
                    },
                )
                .await?;
            let text = match &r.proof {
                None => format!("period {start} has no second proof (yet)\n"),
                Some(p) => format!(
                    "period {}..{} of {} for {}\n  root    {}\n  records {}\n  totals  {}\n  status  {:?}\n",
                    p.period_start,
                    p.period_end,
                    p.provider,
                    p.tenant,
                    p.root.to_hex(),
                    p.totals.records,
                    serde_json::to_string(&p.totals).unwrap_or_default(),
                    p.status
                ),
            };
            Ok(Answer::new(serde_json::to_value(&r)?).text(text))
        }
        TenantCommand::Settlements {
            tenant,
            provider,
            settlement,
        } => {
            let c3a = ctx.contract("settlement", settlement)?;
            let chain = ctx.chain()?;
            let mut all: Vec<c3::Settlement> = vec![];
            loop {
                let page: c3::SettlementsResponse = chain
                    .smart(
                        &c3a,
                        &c3::QueryMsg::Settlements {
                            start_after: all.last().map(|s| s.settlement_id),
                            limit: Some(100),
                        },
                    )
                    .await?;
                let n = page.settlements.len();
                all.extend(page.settlements);
                if n < 100 {
                    break;
                }
            }
            all.retain(|s| {
                tenant.as_ref().is_none_or(|t| s.tenant.as_str() == t)
                    && provider.as_ref().is_none_or(|p| s.provider.as_str() == p)
            });
            let mut text = String::new();
            for s in &all {
                text += &format!(
                    "#{:<4} period {:>12} tenant {} {:>14} {}  {:?}\n",
                    s.settlement_id,
                    s.period_start,
                    s.tenant,
                    money(s.amount.u128()),
                    s.currency,
                    s.status
                );
            }
            if all.is_empty() {
                text = "no settlements\n".into();
            }
            Ok(Answer::new(json!({"settlements": all})).text(text))
        }
        TenantCommand::RegisterFleet {
            provider,
            label,
            terminals,
            first,
            key,
            usage_proof,
        } => {
            let c1a = ctx.contract("usage-proof", usage_proof)?;
            let admin = ctx.signer(&key)?;
            let measurement = software_measurement().0;
            let end = first
                .checked_add(terminals)
                .context("--first + --terminals is too large")?;
            let msgs = (first..end)
                .map(|i| {
                    let msg = c1::ExecuteMsg::RegisterTerminal {
                        terminal_id: terminal_id(&label, i),
                        provider: provider.clone(),
                        attestor_key: HexBinary::from(SimulatedKey::derive(&label, i).public_key()),
                        tee: TeeKind::Software,
                        measurement: measurement.clone().into(),
                        shared_attestor: false,
                    };
                    Ok((c1a.clone(), serde_json::to_vec(&msg)?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            in_fifties(&admin, msgs, "registrations").await?;
            Ok(
                Answer::new(json!({"registered": terminals, "label": label})).text(format!(
                    "registered {terminals} terminals of fleet {label:?}\n"
                )),
            )
        }
        TenantCommand::OpenLeases {
            provider,
            label,
            terminals,
            first,
            start,
            price_cap,
            key,
            usage_proof,
        } => {
            let c1a = ctx.contract("usage-proof", usage_proof)?;
            let tenant = ctx.signer(&key)?;
            let end = first
                .checked_add(terminals)
                .context("--first + --terminals is too large")?;
            let msgs = (first..end)
                .map(|i| {
                    let msg = c1::ExecuteMsg::OpenLease {
                        terminal_id: terminal_id(&label, i),
                        provider: provider.clone(),
                        start,
                        end: None,
                        price_cap: price_cap.map(Uint128::new),
                    };
                    Ok((c1a.clone(), serde_json::to_vec(&msg)?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            in_fifties(&tenant, msgs, "leases").await?;
            let who = tenant.address().unwrap_or_default().to_string();
            Ok(
                Answer::new(json!({"tenant": who, "leased": terminals})).text(format!(
                    "{who} leased {terminals} terminals of fleet {label:?}\n"
                )),
            )
        }
    }
}

/// Every withdrawal on C5 at `c5a`, of `owner` or of all, oldest first, read 100 a page.
async fn withdrawals_of(
    chain: &ChainClient,
    c5a: &str,
    owner: Option<String>,
) -> anyhow::Result<Vec<c5::Withdrawal>> {
    let mut all: Vec<c5::Withdrawal> = vec![];
    loop {
        let page: c5::WithdrawalsResponse = chain
            .smart(
                c5a,
                &c5::QueryMsg::Withdrawals {
                    owner: owner.clone(),
                    start_after: all.last().map(|w| w.withdrawal_id),
                    limit: Some(100),
                },
            )
            .await?;
        let n = page.withdrawals.len();
        all.extend(page.withdrawals);
        if n < 100 {
            return Ok(all);
        }
    }
}

/// Executes `msgs` fifty to a transaction, printing progress on stderr; the first refused
/// transaction is the error.
async fn in_fifties(
    signer: &ChainClient,
    msgs: Vec<(String, Vec<u8>)>,
    what: &str,
) -> anyhow::Result<()> {
    let total = msgs.len();
    let outcomes = signer
        .execute_in_chunks(
            &msgs,
            50,
            30_000_000,
            Duration::from_secs(120),
            |done, out| eprintln!("  {what}: {done}/{total} (block {})", out.height),
        )
        .await?;
    if let Some(refused) = outcomes.iter().find(|o| !o.is_ok()) {
        bail!("{what} refused: {}", refused.log);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::adjusted;

    #[test]
    fn auto_gas_is_the_simulated_gas_times_the_adjustment_rounded_up_within_the_chains_limit() {
        assert_eq!(adjusted(100_000, 1.3).unwrap(), 130_000);
        assert_eq!(adjusted(3, 1.5).unwrap(), 5);
        assert_eq!(adjusted(50_000_000, 1.3).unwrap(), 60_000_000, "capped");
        assert!(adjusted(100, 0.5).is_err(), "an adjustment below 1");
        assert!(adjusted(100, f64::INFINITY).is_err());
        assert!(adjusted(100, f64::NAN).is_err());
        assert!(adjusted(0, 1.3).is_err(), "no gas reported");
        assert!(
            adjusted(70_000_000, 1.0).is_err(),
            "more than a transaction may use"
        );
    }
}
