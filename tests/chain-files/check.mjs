// Checks the files `usage localnet chain-files` writes, in the folder named by the only argument:
//
// - chain.json and assetlist.json against the chain registry's own schemas
//   (third_party/chain-registry), and against the registry's rules that span fields and files
//   (fee tokens are assets, a base unit has exponent 0, a cw20 base names its contract, …);
// - keplr-chain-info.json with Keplr's own validator (@keplr-wallet/chain-validator), unknown keys
//   refused, and unchanged by it: Keplr rewrites what it finds in a non-canonical form;
// - that the three describe the same chain and the same currencies.
//
// Prints {"ok", "errors"} as JSON; exit status 0 when every check passes, 1 when one fails, 2 when
// a file cannot be read.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const draft07 = require("ajv/dist/refs/json-schema-draft-07.json");
const { validateBasicChainInfoType } = require("@keplr-wallet/chain-validator");

const here = path.dirname(fileURLToPath(import.meta.url));
const schemas = path.join(here, "../../third_party/chain-registry");

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
}

// The registry's schemas declare draft-07 under its https address (Ajv registers the http one)
// and use `minContains`/`maxContains`, which draft-07 does not define: they are read as
// annotations, as a draft-07 validator reads words it does not know. Everything else is strict.
function registryValidator(schemaFile) {
  const ajv = new Ajv({ allErrors: true, strictTypes: false });
  addFormats(ajv);
  ajv.addMetaSchema({ ...draft07, $id: "https://json-schema.org/draft-07/schema" });
  ajv.addVocabulary(["minContains", "maxContains"]);
  return ajv.compile(readJson(path.join(schemas, schemaFile)));
}

function schemaErrors(name, validate, value) {
  if (validate(value)) return [];
  return validate.errors.map(
    (e) => `${name}${e.instancePath || "/"}: ${e.message} ${JSON.stringify(e.params)}`
  );
}

// The registry's rules beyond the schemas, for one chain's folder.
function registryRules(chain, assetlist) {
  const errors = [];
  const depth = chain.network_type === "mainnet" ? "../" : "../../";
  for (const [name, file, schema] of [
    ["chain.json", chain, "chain.schema.json"],
    ["assetlist.json", assetlist, "assetlist.schema.json"],
  ]) {
    // A mainnet's folder is at the registry's root, a testnet's or devnet's under testnets/.
    if (file.$schema !== depth + schema) {
      errors.push(`${name}: $schema is ${file.$schema}, expected ${depth + schema} for a ${chain.network_type}`);
    }
  }
  if (!/^[a-z0-9]+$/.test(chain.chain_name ?? "")) {
    errors.push(`chain.json: chain_name ${chain.chain_name} is not a folder name of lowercase letters and digits`);
  }
  if (assetlist.chain_name !== chain.chain_name) {
    errors.push(`assetlist.json: chain_name ${assetlist.chain_name}, chain.json has ${chain.chain_name}`);
  }
  for (const [kind, list] of Object.entries(chain.apis ?? {})) {
    for (const { address } of list ?? []) {
      if ((kind === "rpc" || kind === "rest") && !/^https?:\/\/\S+$/.test(address ?? "")) {
        errors.push(`chain.json: apis.${kind} address ${address} is not an http(s) URL`);
      }
    }
  }

  const assets = assetlist.assets ?? [];
  const bases = new Set();
  for (const asset of assets) {
    const at = `assetlist.json: asset ${asset.base}`;
    if (bases.has(asset.base)) errors.push(`${at}: base listed twice`);
    bases.add(asset.base);
    const names = (u) => [u.denom, ...(u.aliases ?? [])];
    const baseUnits = (asset.denom_units ?? []).filter((u) => names(u).includes(asset.base));
    if (baseUnits.length !== 1 || baseUnits[0].exponent !== 0) {
      errors.push(`${at}: the base must be exactly one denom unit, of exponent 0`);
    }
    if ((asset.denom_units ?? []).filter((u) => names(u).includes(asset.display)).length !== 1) {
      errors.push(`${at}: display ${asset.display} must be exactly one denom unit`);
    }
    if (asset.base?.startsWith("cw20:")) {
      if (asset.type_asset !== "cw20") errors.push(`${at}: a cw20: base needs type_asset cw20`);
      if (asset.base !== `cw20:${asset.address}`) errors.push(`${at}: a cw20 base is cw20:<address>`);
    }
    if (!/^[A-Za-z0-9._-]+$/.test(asset.symbol ?? "")) {
      errors.push(`${at}: symbol ${asset.symbol} has characters other than letters, digits, . _ -`);
    }
  }

  const feeTokens = chain.fees?.fee_tokens ?? [];
  for (const token of feeTokens) {
    if (!bases.has(token.denom)) errors.push(`chain.json: fee token ${token.denom} is not in assetlist.json`);
    const prices = ["fixed_min_gas_price", "low_gas_price", "average_gas_price", "high_gas_price"]
      .map((k) => [k, token[k]])
      .filter(([, v]) => v !== undefined);
    for (let i = 1; i < prices.length; i++) {
      if (prices[i - 1][1] > prices[i][1]) {
        errors.push(`chain.json: fee token ${token.denom}: ${prices[i - 1][0]} > ${prices[i][0]}`);
      }
    }
  }
  for (const token of chain.staking?.staking_tokens ?? []) {
    if (!bases.has(token.denom)) errors.push(`chain.json: staking token ${token.denom} is not in assetlist.json`);
  }
  return errors;
}

async function keplrErrors(info) {
  try {
    // Unknown keys are refused rather than stripped: a key Keplr ignores is a mistake here.
    const accepted = await validateBasicChainInfoType(info, false);
    if (!isDeepStrictEqual(accepted, info)) {
      return [`keplr-chain-info.json: Keplr's validator rewrote it to ${JSON.stringify(accepted)}`];
    }
    return [];
  } catch (e) {
    return [`keplr-chain-info.json: ${e.message}`];
  }
}

// Keplr's chain info and the registry's files describe one chain.
function agreement(info, chain, assetlist) {
  const errors = [];
  const differ = (what, keplr, registry) => {
    if (!isDeepStrictEqual(keplr, registry)) {
      errors.push(`${what}: keplr-chain-info.json has ${JSON.stringify(keplr)}, the registry's files ${JSON.stringify(registry)}`);
    }
  };
  differ("chain id", info.chainId, chain.chain_id);
  differ("bech32 prefix", info.bech32Config?.bech32PrefixAccAddr, chain.bech32_prefix);
  differ("coin type", info.bip44?.coinType, chain.slip44);
  differ("RPC", [info.rpc], (chain.apis?.rpc ?? []).map((a) => a.address));
  differ("REST", [info.rest], (chain.apis?.rest ?? []).map((a) => a.address));
  differ(
    "fee denominations",
    (info.feeCurrencies ?? []).map((c) => c.coinMinimalDenom),
    (chain.fees?.fee_tokens ?? []).map((t) => t.denom)
  );
  const assets = assetlist.assets ?? [];
  for (const currency of info.currencies ?? []) {
    const asset =
      currency.type === "cw20"
        ? assets.find((a) => a.type_asset === "cw20" && a.address === currency.contractAddress)
        : assets.find((a) => a.base === currency.coinMinimalDenom);
    if (!asset) {
      errors.push(`currency ${currency.coinMinimalDenom} is not in assetlist.json`);
      continue;
    }
    const display = (asset.denom_units ?? []).find((u) => u.denom === asset.display);
    differ(`decimals of ${currency.coinMinimalDenom}`, currency.coinDecimals, display?.exponent);
    differ(`symbol of ${currency.coinMinimalDenom}`, currency.coinDenom, asset.symbol);
  }
  return errors;
}

const dir = process.argv[2];
if (!dir || process.argv.length !== 3) {
  console.error("usage: node check.mjs <folder with keplr-chain-info.json, chain.json, assetlist.json>");
  process.exit(2);
}
const chain = readJson(path.join(dir, "chain.json"));
const assetlist = readJson(path.join(dir, "assetlist.json"));
const info = readJson(path.join(dir, "keplr-chain-info.json"));

const errors = [
  ...schemaErrors("chain.json", registryValidator("chain.schema.json"), chain),
  ...schemaErrors("assetlist.json", registryValidator("assetlist.schema.json"), assetlist),
  ...registryRules(chain, assetlist),
  ...(await keplrErrors(info)),
  ...agreement(info, chain, assetlist),
];
console.log(JSON.stringify({ ok: errors.length === 0, errors }, null, 2));
process.exit(errors.length === 0 ? 0 : 1);
