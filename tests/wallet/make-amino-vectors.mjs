// Writes abci-app/auth/tests/data/amino-json-vectors.json: transactions signed with
// SIGN_MODE_LEGACY_AMINO_JSON by CosmJS itself (SigningCosmWasmClient.sign with an amino-only
// Secp256k1Wallet and createWasmAminoConverters), each with the exact sign doc the wallet was
// handed, serialised by @cosmjs/amino's serializeSignDoc. The chain must rebuild that document
// from the transaction alone. Each transaction is also a seed of the tx_decode fuzz target
// (fuzz/corpus/tx_decode/amino-*). Deterministic: the same files every run.
// `node tests/wallet/make-amino-vectors.mjs`
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Secp256k1Wallet, serializeSignDoc } from "@cosmjs/amino";
import { SigningCosmWasmClient, createWasmAminoConverters } from "@cosmjs/cosmwasm-stargate";
import { toBech32 } from "@cosmjs/encoding";
import { AminoTypes } from "@cosmjs/stargate";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { AccessType } from "cosmjs-types/cosmwasm/wasm/v1/types";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../../abci-app/auth/tests/data");
const seeds = join(here, "../../fuzz/corpus/tx_decode");
const sha = (s) => createHash("sha256").update(s).digest();
const utf8 = (s) => new TextEncoder().encode(s);

// The wallet records the document it signs, so the vector holds what was really signed.
const inner = await Secp256k1Wallet.fromKey(sha("amino-vector-key"), "usage");
const [{ address }] = await inner.getAccounts();
let lastSignDoc;
const recording = {
  getAccounts: () => inner.getAccounts(),
  signAmino: (signer, signDoc) => {
    lastSignDoc = signDoc;
    return inner.signAmino(signer, signDoc);
  },
};
const client = await SigningCosmWasmClient.offline(recording, {
  aminoTypes: new AminoTypes(createWasmAminoConverters()),
});

const contract = toBech32("usage", sha("amino-vector-contract"));
const other = toBech32("usage", sha("amino-vector-other").subarray(0, 20));

// Contract message text with unsorted keys at every depth, & < > in keys and values, escapes,
// control characters, U+2028, astral characters (a key that sorts differently in UTF-16 and in
// UTF-8), integer-like keys, and numbers in several forms.
const tricky = `{
  "zeta": {"y": 2, "b": [{"d": 1, "c": "<b>&amp;</b>"}, 3], "a": null},
  "alpha": true,
  "text": "quote \\" backslash \\\\ slash \\/ nl \\n tab \\t ctl \\u0001 del \\u007f ls \\u2028 é 😀",
  "numbers": [0, -7, 1.5, 1E21, 9007199254740993, 0.000001, 1e-7, -0.0],
  "\uFB01": "sorts after the astral key in UTF-16, before it in UTF-8",
  "😀": "astral key",
  "10": "ten",
  "9": "nine",
  "&<>": "a key with escaped characters",
  "": "the empty key"
}`;

const execute = (msg, funds = []) => ({
  typeUrl: "/cosmwasm.wasm.v1.MsgExecuteContract",
  value: { sender: address, contract, msg: utf8(msg), funds },
});

const cases = [
  {
    name: "execute-escapes-nested-unsorted-keys-timeout-fee",
    messages: [
      execute(tricky, [
        { denom: "uaaa", amount: "5" },
        { denom: "ucny", amount: "1000" },
      ]),
    ],
    fee: { amount: [{ denom: "ucny", amount: "2500" }], gas: "180000" },
    memo: "pay <alice> & \"bob\"",
    signerData: { accountNumber: 42, sequence: 7, chainId: "usagechain-amino-1" },
    timeoutHeight: 1234567n,
  },
  {
    name: "execute-withdrawal-zero-fee-fresh-account",
    messages: [
      execute(JSON.stringify({ request_withdrawal: { amount: "1200", beneficiary: "CN9988776655443322" } })),
    ],
    fee: { amount: [{ denom: "ucny", amount: "0" }], gas: "200000" },
    memo: "",
    signerData: { accountNumber: 0, sequence: 0, chainId: "usagechain-wallet-1" },
  },
  {
    name: "every-wasm-message",
    messages: [
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgStoreCode",
        value: {
          sender: address,
          wasmByteCode: Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]),
          instantiatePermission: { permission: AccessType.ACCESS_TYPE_ANY_OF_ADDRESSES, addresses: [address, other] },
        },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgStoreCode",
        value: {
          sender: address,
          wasmByteCode: Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff]),
          instantiatePermission: { permission: AccessType.ACCESS_TYPE_EVERYBODY, addresses: [] },
        },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgStoreCode",
        value: { sender: address, wasmByteCode: Uint8Array.from([1, 2, 3]) },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgInstantiateContract",
        value: {
          sender: address,
          admin: other,
          codeId: 3n,
          label: "probe <1> & co",
          msg: utf8('{"count": 1, "owner": null}'),
          funds: [{ denom: "ucny", amount: "9" }],
        },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgInstantiateContract",
        value: { sender: address, admin: "", codeId: 4n, label: "immutable", msg: utf8("{}"), funds: [] },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgInstantiateContract2",
        value: {
          sender: address,
          admin: "",
          codeId: 18446744073709551615n,
          label: "salted",
          msg: utf8('"ping"'),
          funds: [],
          salt: Uint8Array.from([0xfb, 0xff, 0x01]),
          fixMsg: true,
        },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgInstantiateContract2",
        value: {
          sender: address,
          admin: other,
          codeId: 5n,
          label: "salted, not fixed",
          msg: utf8("[1, \"a\", {\"b\": [], \"a\": {}}]"),
          funds: [],
          salt: utf8("salt"),
          fixMsg: false,
        },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgMigrateContract",
        value: { sender: address, contract, codeId: 6n, msg: utf8('{"migrate": {"to": 6, "from": 5}}') },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgUpdateAdmin",
        value: { sender: address, newAdmin: other, contract },
      },
      {
        typeUrl: "/cosmwasm.wasm.v1.MsgClearAdmin",
        value: { sender: address, contract },
      },
    ],
    fee: { amount: [], gas: "900000" },
    memo: "every message wasmd signs in amino JSON",
    signerData: { accountNumber: 9007199254740991, sequence: 123456789, chainId: "usagechain-amino-1" },
  },
];

const vectors = [];
for (const c of cases) {
  lastSignDoc = undefined;
  const txRaw = await client.sign(address, c.messages, c.fee, c.memo, c.signerData, c.timeoutHeight);
  mkdirSync(seeds, { recursive: true });
  writeFileSync(join(seeds, `amino-${c.name}`), TxRaw.encode(txRaw).finish());
  vectors.push({
    name: c.name,
    chain_id: c.signerData.chainId,
    account_number: c.signerData.accountNumber,
    tx_base64: Buffer.from(TxRaw.encode(txRaw).finish()).toString("base64"),
    sign_doc: new TextDecoder().decode(serializeSignDoc(lastSignDoc)),
  });
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "amino-json-vectors.json"), JSON.stringify({ signer: address, vectors }, null, 2) + "\n");
console.log(`wrote ${vectors.length} vectors to ${join(out, "amino-json-vectors.json")}`);
