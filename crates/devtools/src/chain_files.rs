//! What wallets and chain registries read about a localnet: Keplr's chain info (the object a dApp
//! passes to `window.keplr.experimentalSuggestChain`) and the Cosmos chain registry's
//! `chain.json` and `assetlist.json`.
//!
//! The chain has no native token: bank queries answer zero in [`FEE_DENOM`], which is also the
//! denomination of fees, and a localnet's node admits fee-less transactions. What an account
//! holds is its balance in the C4 ledger, which answers cw20's `balance` and `token_info`
//! queries; both files describe it as a CW20 token, so a wallet shows it as one.
//!
//! `tests/chain-files/check.mjs` validates the three files against the registry's schemas
//! (vendored in `third_party/chain-registry/`) and with Keplr's own chain-info validator.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::localnet::{LocalnetInfo, CURRENCY, CURRENCY_DECIMALS, CURRENCY_MINOR_UNIT};

/// Keplr's chain info.
pub const KEPLR_CHAIN_INFO_FILE: &str = "keplr-chain-info.json";
/// The chain registry's description of the chain.
pub const CHAIN_FILE: &str = "chain.json";
/// The chain registry's list of the chain's assets.
pub const ASSETLIST_FILE: &str = "assetlist.json";
/// Where a localnet's node serves its REST (LCD) API unless told otherwise.
pub const DEFAULT_REST_PORT: u16 = 1317;
/// The denomination of bank balances (always zero) and of fees.
pub const FEE_DENOM: &str = usaged::queries::DENOM;
/// The name wallets show: at most 30 characters, Keplr's limit until late 2024 (36 since).
pub const CHAIN_NAME: &str = "usagechain localnet";
/// SLIP-44 coin type of the chain's keys: Cosmos's, so Keplr derives the addresses every other
/// client of the chain derives from a mnemonic.
pub const COIN_TYPE: u32 = 118;
/// The CometBFT release line the node is built for: ABCI and RPC are those of v0.38, whatever
/// the patch release.
pub const COMETBFT_VERSION: &str = "v0.38";

/// The URLs at which wallets reach the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    rpc: String,
    rest: String,
}

impl Endpoints {
    /// CometBFT's RPC and the REST (LCD) API: `http(s)://host[:port][/path]`, no query and no
    /// fragment (Keplr appends paths to them). A trailing `/` is dropped.
    pub fn new(rpc: &str, rest: &str) -> anyhow::Result<Endpoints> {
        Ok(Endpoints {
            rpc: base_url(rpc).context("the RPC URL")?,
            rest: base_url(rest).context("the REST URL")?,
        })
    }

    /// A localnet on this machine: its RPC port from `localnet.json`, REST on
    /// [`DEFAULT_REST_PORT`].
    pub fn localnet(info: &LocalnetInfo) -> anyhow::Result<Endpoints> {
        Endpoints::new(
            &format!("http://127.0.0.1:{}", info.ports.rpc),
            &format!("http://127.0.0.1:{DEFAULT_REST_PORT}"),
        )
    }

    pub fn rpc(&self) -> &str {
        &self.rpc
    }

    pub fn rest(&self) -> &str {
        &self.rest
    }
}

/// `url` if it is an absolute http(s) URL without query or fragment, without a trailing `/`.
fn base_url(url: &str) -> anyhow::Result<String> {
    if url.is_empty() || url.chars().any(char::is_whitespace) {
        bail!("{url:?} is empty or holds whitespace");
    }
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        bail!("{url:?} is not an http(s) URL with a host");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || url.contains(['?', '#']) {
        bail!("{url:?} has a query or a fragment");
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The registry's name of the chain: its chain id's letters and digits, lowercase
/// (`usagechain-local-1` is `usagechainlocal1`), as the registry's folder names are.
pub fn registry_chain_name(chain_id: &str) -> anyhow::Result<String> {
    let name: String = chain_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if name.is_empty() {
        bail!("chain id {chain_id:?} has no letter or digit to name the chain by");
    }
    Ok(name)
}

/// The C4 ledger's address in `info`.
fn ledger(info: &LocalnetInfo) -> anyhow::Result<&str> {
    info.contract("ledger")
}

/// The ledger as Keplr names a CW20 token: `cw20:<contract>:<minimal denomination>`, the form
/// Keplr's validator would otherwise rewrite the denomination into.
pub fn keplr_ledger_denom(ledger: &str) -> String {
    format!("cw20:{ledger}:{CURRENCY_MINOR_UNIT}")
}

/// The ledger's base denomination in the chain registry: `cw20:<contract>`.
pub fn registry_ledger_denom(ledger: &str) -> String {
    format!("cw20:{ledger}")
}

/// Keplr's chain info for the localnet.
pub fn keplr_chain_info(info: &LocalnetInfo, endpoints: &Endpoints) -> anyhow::Result<Value> {
    let ledger = ledger(info)?;
    let prefix = usaged_auth::PREFIX;
    // Shown as its denomination, unscaled: nobody holds any, so a display unit would invent one.
    let fee_currency = json!({
        "coinDenom": FEE_DENOM.to_uppercase(),
        "coinMinimalDenom": FEE_DENOM,
        "coinDecimals": 0,
    });
    let mut fee = fee_currency.clone();
    // The localnet's minimum gas price is zero; Keplr then offers a zero fee, which the node
    // accepts.
    fee["gasPriceStep"] = json!({"low": 0, "average": 0, "high": 0});
    Ok(json!({
        "rpc": endpoints.rpc,
        "rest": endpoints.rest,
        "chainId": info.chain_id,
        "chainName": CHAIN_NAME,
        // No `stakeCurrency`: the chain has no staking (Keplr has made it optional since 2023).
        "bip44": {"coinType": COIN_TYPE},
        "bech32Config": {
            "bech32PrefixAccAddr": prefix,
            "bech32PrefixAccPub": format!("{prefix}pub"),
            "bech32PrefixValAddr": format!("{prefix}valoper"),
            "bech32PrefixValPub": format!("{prefix}valoperpub"),
            "bech32PrefixConsAddr": format!("{prefix}valcons"),
            "bech32PrefixConsPub": format!("{prefix}valconspub"),
        },
        // The ledger first: without a stake currency Keplr takes the first currency for the
        // chain's main one.
        "currencies": [
            {
                "type": "cw20",
                "contractAddress": ledger,
                "coinDenom": CURRENCY,
                "coinMinimalDenom": keplr_ledger_denom(ledger),
                "coinDecimals": CURRENCY_DECIMALS,
            },
            fee_currency,
        ],
        "feeCurrencies": [fee],
        // `wasmd_0.24+`: contracts are queried at `/cosmwasm/wasm/v1/contract/…/smart/…` (the
        // route of wasmd 0.24 and later, which the node's REST API serves) without Keplr first
        // probing the REST API to find out.
        "features": ["cosmwasm", "wasmd_0.24+"],
        "isTestnet": true,
    }))
}

/// The chain registry's `chain.json` for the localnet. A localnet is a devnet, which the
/// registry keeps under `testnets/<chain_name>/`: hence `$schema` two folders up.
pub fn registry_chain(info: &LocalnetInfo, endpoints: &Endpoints) -> anyhow::Result<Value> {
    Ok(json!({
        "$schema": "../../chain.schema.json",
        "chain_name": registry_chain_name(&info.chain_id)?,
        "chain_type": "cosmos",
        "status": "live",
        "network_type": "devnet",
        "pretty_name": CHAIN_NAME,
        "chain_id": info.chain_id,
        "bech32_prefix": usaged_auth::PREFIX,
        "daemon_name": "usaged",
        "key_algos": ["secp256k1"],
        "slip44": COIN_TYPE,
        "fees": {"fee_tokens": [{
            "denom": FEE_DENOM,
            "fixed_min_gas_price": 0,
            "low_gas_price": 0,
            "average_gas_price": 0,
            "high_gas_price": 0,
        }]},
        "codebase": {
            "language": {"type": "rust"},
            // Our own ABCI application, not the Cosmos SDK; contracts run in CosmWasm.
            "sdk": {"type": "other"},
            "consensus": {"type": "cometbft", "version": COMETBFT_VERSION},
            "cosmwasm": {"enabled": true},
        },
        "apis": {
            "rpc": [{"address": endpoints.rpc, "provider": "localnet"}],
            "rest": [{"address": endpoints.rest, "provider": "localnet"}],
        },
        "description": format!(
            "A localnet of usagechain, which meters cloud-network usage and bills it. The chain \
             has no native token: balances are kept in {CURRENCY} by the C4 ledger contract, a \
             CW20 token."
        ),
    }))
}

/// The chain registry's `assetlist.json` for the localnet: the fee denomination and the ledger.
pub fn registry_assetlist(info: &LocalnetInfo) -> anyhow::Result<Value> {
    let ledger = ledger(info)?;
    let base = registry_ledger_denom(ledger);
    let display = CURRENCY.to_lowercase();
    Ok(json!({
        "$schema": "../../assetlist.schema.json",
        "chain_name": registry_chain_name(&info.chain_id)?,
        "assets": [
            {
                "description": "The denomination of fees and of bank balances. The chain has no \
                    native token: every bank balance is zero, and a localnet charges no fee.",
                "denom_units": [{"denom": FEE_DENOM, "exponent": 0}],
                "type_asset": "sdk.coin",
                "base": FEE_DENOM,
                "name": "usagechain fee denomination",
                "display": FEE_DENOM,
                "symbol": FEE_DENOM.to_uppercase(),
            },
            {
                "description": format!(
                    "Balances in {CURRENCY} kept by the C4 ledger contract: credited by bank \
                     deposits, debited by settlements and withdrawals. A cw20 balance query \
                     answers the available balance."
                ),
                "denom_units": [
                    {"denom": base, "exponent": 0, "aliases": [CURRENCY_MINOR_UNIT]},
                    {"denom": display, "exponent": CURRENCY_DECIMALS},
                ],
                "type_asset": "cw20",
                "address": ledger,
                "base": base,
                "name": format!("{CURRENCY} (usagechain ledger)"),
                "display": display,
                "symbol": CURRENCY,
            },
        ],
    }))
}

/// Writes [`KEPLR_CHAIN_INFO_FILE`], [`CHAIN_FILE`] and [`ASSETLIST_FILE`] into `dir` (created
/// if missing, files replaced); returns their paths.
pub fn write(
    dir: &Path,
    info: &LocalnetInfo,
    endpoints: &Endpoints,
) -> anyhow::Result<Vec<PathBuf>> {
    let files = [
        (KEPLR_CHAIN_INFO_FILE, keplr_chain_info(info, endpoints)?),
        (CHAIN_FILE, registry_chain(info, endpoints)?),
        (ASSETLIST_FILE, registry_assetlist(info)?),
    ];
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = vec![];
    for (name, value) in files {
        let path = dir.join(name);
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localnet::Ports;

    const LEDGER: &str = "usage1ledgercontractaddress";

    fn info() -> LocalnetInfo {
        LocalnetInfo {
            chain_id: "usagechain-local-1".into(),
            ports: Ports::default(),
            admin_address: "usage1admin".into(),
            admin_secret_hex: "00".into(),
            committee_label: "c".into(),
            contracts: vec![
                ("usage-proof".into(), "usage1proof".into()),
                ("ledger".into(), LEDGER.into()),
            ],
            validators: vec![],
        }
    }

    fn endpoints() -> Endpoints {
        Endpoints::localnet(&info()).unwrap()
    }

    #[test]
    fn keplr_shows_the_ledger_as_a_cw20_token_in_cny_with_two_decimals() {
        let keplr = keplr_chain_info(&info(), &endpoints()).unwrap();
        let currencies = keplr["currencies"].as_array().unwrap();
        let cw20: Vec<&Value> = currencies.iter().filter(|c| c["type"] == "cw20").collect();
        assert_eq!(cw20.len(), 1);
        // The chain's main currency in Keplr's screens.
        assert_eq!(&currencies[0], cw20[0]);
        assert_eq!(cw20[0]["contractAddress"], LEDGER);
        assert_eq!(cw20[0]["coinDenom"], "CNY");
        assert_eq!(cw20[0]["coinDecimals"], 2);
        assert_eq!(
            cw20[0]["coinMinimalDenom"],
            format!("cw20:{LEDGER}:fen").as_str()
        );
        assert_eq!(keplr["features"], json!(["cosmwasm", "wasmd_0.24+"]));
    }

    #[test]
    fn keplr_derives_usage_addresses_with_cosmos_coin_type() {
        let keplr = keplr_chain_info(&info(), &endpoints()).unwrap();
        assert_eq!(keplr["bip44"], json!({"coinType": 118}));
        assert_eq!(
            keplr["bech32Config"],
            json!({
                "bech32PrefixAccAddr": "usage",
                "bech32PrefixAccPub": "usagepub",
                "bech32PrefixValAddr": "usagevaloper",
                "bech32PrefixValPub": "usagevaloperpub",
                "bech32PrefixConsAddr": "usagevalcons",
                "bech32PrefixConsPub": "usagevalconspub",
            })
        );
        assert_eq!(keplr["chainId"], "usagechain-local-1");
        let name = keplr["chainName"].as_str().unwrap();
        assert!((1..=30).contains(&name.len()), "{name}");
        assert!(keplr.get("stakeCurrency").is_none());
    }

    #[test]
    fn fees_are_zero_in_the_bank_denomination_everywhere() {
        let keplr = keplr_chain_info(&info(), &endpoints()).unwrap();
        let fee = &keplr["feeCurrencies"];
        assert_eq!(fee.as_array().unwrap().len(), 1);
        assert_eq!(fee[0]["coinMinimalDenom"], "ucny");
        assert_eq!(
            fee[0]["gasPriceStep"],
            json!({"low": 0, "average": 0, "high": 0})
        );
        // The fee currency is one of the currencies, as Keplr looks balances up there.
        assert!(keplr["currencies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["coinMinimalDenom"] == "ucny"));
        let chain = registry_chain(&info(), &endpoints()).unwrap();
        let token = &chain["fees"]["fee_tokens"][0];
        assert_eq!(token["denom"], "ucny");
        for price in [
            "fixed_min_gas_price",
            "low_gas_price",
            "average_gas_price",
            "high_gas_price",
        ] {
            assert_eq!(token[price], 0, "{price}");
        }
    }

    #[test]
    fn the_registry_files_name_the_same_chain_and_list_its_fee_token_and_the_ledger() {
        let chain = registry_chain(&info(), &endpoints()).unwrap();
        let assets = registry_assetlist(&info()).unwrap();
        assert_eq!(chain["chain_name"], "usagechainlocal1");
        assert_eq!(assets["chain_name"], chain["chain_name"]);
        assert_eq!(chain["chain_id"], "usagechain-local-1");
        assert_eq!(chain["bech32_prefix"], "usage");
        assert_eq!(chain["slip44"], 118);
        assert_eq!(chain["network_type"], "devnet");
        assert_eq!(chain["codebase"]["sdk"], json!({"type": "other"}));
        assert_eq!(chain["codebase"]["consensus"]["type"], "cometbft");
        assert_eq!(chain["apis"]["rpc"][0]["address"], "http://127.0.0.1:26657");
        assert_eq!(chain["apis"]["rest"][0]["address"], "http://127.0.0.1:1317");
        let list = assets["assets"].as_array().unwrap();
        assert!(list.iter().any(|a| a["base"] == "ucny"));
        let ledger = list.iter().find(|a| a["type_asset"] == "cw20").unwrap();
        assert_eq!(ledger["address"], LEDGER);
        assert_eq!(ledger["base"], format!("cw20:{LEDGER}").as_str());
        assert_eq!(ledger["symbol"], "CNY");
        // The base unit has exponent 0, the display unit the currency's decimals.
        assert_eq!(
            ledger["denom_units"],
            json!([
                {"denom": format!("cw20:{LEDGER}"), "exponent": 0, "aliases": ["fen"]},
                {"denom": "cny", "exponent": 2},
            ])
        );
        assert_eq!(ledger["display"], "cny");
    }

    #[test]
    fn a_localnet_without_a_ledger_has_no_chain_files() {
        let mut info = info();
        info.contracts.retain(|(label, _)| label != "ledger");
        assert!(keplr_chain_info(&info, &endpoints()).is_err());
        assert!(registry_assetlist(&info).is_err());
    }

    #[test]
    fn the_registry_name_is_the_chain_ids_letters_and_digits_in_lowercase() {
        assert_eq!(
            registry_chain_name("Usagechain-Local-1").unwrap(),
            "usagechainlocal1"
        );
        assert!(registry_chain_name("--").is_err());
    }

    #[test]
    fn an_endpoint_must_be_an_http_url_without_query_or_fragment() {
        let e = Endpoints::new("https://rpc.example:443/", "http://127.0.0.1:1317").unwrap();
        assert_eq!(e.rpc(), "https://rpc.example:443");
        assert_eq!(e.rest(), "http://127.0.0.1:1317");
        for bad in [
            "",
            "127.0.0.1:26657",
            "tcp://127.0.0.1:26657",
            "ws://127.0.0.1:26657",
            "http://127.0.0.1:26657?x=1",
            "http://127.0.0.1:26657#top",
            "http://127.0.0.1: 26657",
        ] {
            assert!(
                Endpoints::new(bad, "http://127.0.0.1:1317").is_err(),
                "{bad:?}"
            );
            assert!(
                Endpoints::new("http://127.0.0.1:26657", bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn write_puts_the_three_files_in_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/folder");
        let written = write(&out, &info(), &endpoints()).unwrap();
        assert_eq!(
            written,
            vec![
                out.join("keplr-chain-info.json"),
                out.join("chain.json"),
                out.join("assetlist.json"),
            ]
        );
        let read = |name: &str| -> Value {
            serde_json::from_slice(&std::fs::read(out.join(name)).unwrap()).unwrap()
        };
        assert_eq!(
            read("keplr-chain-info.json"),
            keplr_chain_info(&info(), &endpoints()).unwrap()
        );
        assert_eq!(
            read("chain.json"),
            registry_chain(&info(), &endpoints()).unwrap()
        );
        assert_eq!(read("assetlist.json"), registry_assetlist(&info()).unwrap());
    }
}
