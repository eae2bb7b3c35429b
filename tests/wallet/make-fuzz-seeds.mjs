// Writes the fuzz targets' seed corpora under fuzz/corpus/<target>/: transactions signed the way
// CosmJS signs them (execute, upload, instantiate, several messages, a simulate request), the
// contracts' execute messages, canonical usage batches, attestor samples and ingest bodies.
// Deterministic: the same files every run. `node tests/wallet/make-fuzz-seeds.mjs`
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DirectSecp256k1Wallet, Registry, makeAuthInfoBytes, makeSignDoc, encodePubkey } from "@cosmjs/proto-signing";
import { defaultRegistryTypes } from "@cosmjs/stargate";
import { wasmTypes } from "@cosmjs/cosmwasm-stargate";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { SimulateRequest } from "cosmjs-types/cosmos/tx/v1beta1/service";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../fuzz/corpus");
const put = (target, name, bytes) => {
  mkdirSync(join(root, target), { recursive: true });
  writeFileSync(join(root, target, name), bytes);
};
const sha = (s) => createHash("sha256").update(s).digest();

// --- transactions -------------------------------------------------------------------------
const registry = new Registry([...defaultRegistryTypes, ...wasmTypes]);
const wallet = await DirectSecp256k1Wallet.fromKey(sha("fuzz-seed-key"), "usage");
const [{ address, pubkey }] = await wallet.getAccounts();
const contract = "usage14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0xq2nz";
const json = (v) => new TextEncoder().encode(JSON.stringify(v));
const execute = (msg) => ({
  typeUrl: "/cosmwasm.wasm.v1.MsgExecuteContract",
  value: { sender: address, contract, msg: json(msg), funds: [] },
});
async function signed(messages, gas, sequence, chainId = "usagechain-fuzz") {
  const bodyBytes = registry.encode({ typeUrl: "/cosmos.tx.v1beta1.TxBody", value: { messages, memo: "" } });
  const authInfoBytes = makeAuthInfoBytes(
    [{ pubkey: encodePubkey(encodeSecp256k1Pubkey(pubkey)), sequence }],
    [{ denom: "ucny", amount: "0" }],
    gas,
    undefined,
    undefined,
  );
  const doc = makeSignDoc(bodyBytes, authInfoBytes, chainId, 3);
  const { signature } = await wallet.signDirect(address, doc);
  return TxRaw.encode(
    TxRaw.fromPartial({ bodyBytes, authInfoBytes, signatures: [Buffer.from(signature.signature, "base64")] }),
  ).finish();
}
const wasm = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
put("tx_decode", "execute", await signed([execute({ write: { key: "k", value: "v" } })], 200000, 0));
put("tx_decode", "execute-seq7", await signed([execute({ request_withdrawal: { amount: "5", beneficiary: "CN1" } })], 300000, 7));
put(
  "tx_decode",
  "store-code",
  await signed([{ typeUrl: "/cosmwasm.wasm.v1.MsgStoreCode", value: { sender: address, wasmByteCode: wasm } }], 5000000, 0),
);
put(
  "tx_decode",
  "instantiate",
  await signed(
    [{
      typeUrl: "/cosmwasm.wasm.v1.MsgInstantiateContract",
      value: { sender: address, admin: address, codeId: 1n, label: "x", msg: json({}), funds: [] },
    }],
    500000,
    1,
  ),
);
put(
  "tx_decode",
  "two-messages",
  await signed([execute({ deposit: {} }), execute({ withdraw: { amount: "1" } })], 900000, 2),
);
const tx = await signed([execute({ submit_batch: {} })], 100000, 0);
put("tx_decode", "simulate-request", SimulateRequest.encode(SimulateRequest.fromPartial({ txBytes: tx })).finish());

// --- contract messages: selector byte (contract % 5, 0x80 = a stranger sends), then JSON ------
const messages = [
  [0, { register_terminal: { terminal_id: "edge-1", provider: "cosmwasm1admin", attestor_key: "01".repeat(32), tee: "software", measurement: "07".repeat(32) } }],
  [0, { submit_batch: { records: "AQAAAAA=", signature: { epoch: 1, signers: "Dw==", signature: "00".repeat(96) } } }],
  [0, { deactivate_terminal: { terminal_id: "edge-1" } }],
  [0x80, { rotate_committee: { threshold: 2, members: [] } }],
  [1, { prove_period: { provider: "p", tenant: "t", period_start: 0 } }],
  [1, { open_dispute: { provider: "p", period_start: 60, reason: "too high" } }],
  [2, { request_settlement: { provider: "p", tenant: "t", period_start: 0 } }],
  [2, { set_payee: { account: "CN001" } }],
  [3, { deposit: { voucher: {}, signature: {} } }],
  [3, { lock: { owner: "o", amount: "1" } }],
  [4, { request_withdrawal: { amount: "5", beneficiary: "CN9988776655443322" } }],
  [0x84, { cancel_withdrawal: { id: 1 } }],
];
messages.forEach(([selector, msg], i) => {
  put("contract_execute", `msg-${i}`, Buffer.concat([Buffer.from([selector]), Buffer.from(JSON.stringify(msg))]));
});

// --- the canonical codec --------------------------------------------------------------------
const u8 = (v) => Buffer.from([v]);
const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(v)); return b; };
const str = (s) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);
const record = (i) =>
  Buffer.concat([str(`edge-${i}`), u64(1700000000 + 10 * i), str(`usage1tenant${i}`), ...Array.from({ length: 12 }, (_, k) => u64(k * 1000 + i))]);
put("payload_codec", "empty-batch", Buffer.concat([u8(1), u32(0)]));
put("payload_codec", "one-record", Buffer.concat([u8(1), u32(1), record(1)]));
put("payload_codec", "three-records", Buffer.concat([u8(1), u32(3), record(1), record(2), record(3)]));

const sample = (i, appUp) =>
  Buffer.concat([
    str("usagechain/v2/sample"), str(`edge-${i}`), str(`usage1tenant${i}`), sha(`config${i}`), u64(i), u64(1700000000000 + i),
    u64(1000), u64(2000), u64(3000), u64(4096), u64(8192), u16(500), u64(1 << 20), u64(1 << 30),
    u32(800), u32(0), u8(appUp ? 1 : 0),
  ]);
put("sample_decode", "sample", sample(1, true));
put("sample_decode", "sample-app-down", sample(2, false));
const signedSample = (i) => Buffer.concat([u32(sample(i, true).length), sample(i, true), sha(`sig${i}`), sha(`sig2${i}`), sha(`pk${i}`)]);
put("sample_decode", "signed-sample-base64", Buffer.from(signedSample(3).toString("base64")));
put("ingest_body", "two-samples", Buffer.from(JSON.stringify({ samples: [signedSample(1), signedSample(2)].map((b) => b.toString("base64")) })));
put("ingest_body", "empty", Buffer.from(JSON.stringify({ samples: [] })));
console.log(`seeds written under ${root}`);
