// A freshly generated wallet (never seen on chain) signs and broadcasts RequestWithdrawal on C5
// with SigningCosmWasmClient.execute (fee "auto": the chain's Simulate), reads it back with
// queryContractSmart and finds the tx with searchTx. Prints one JSON line; exits non-zero on error.
// Env: RPC, WITHDRAWAL (C5 address), PRIVKEY (hex, the wallet's key), AMOUNT, and optionally
// BENEFICIARY (the bank account to pay).
import { SigningCosmWasmClient } from "@cosmjs/cosmwasm-stargate";
import { DirectSecp256k1Wallet } from "@cosmjs/proto-signing";
import { GasPrice } from "@cosmjs/stargate";

const { RPC, WITHDRAWAL, PRIVKEY, AMOUNT } = process.env;
const BENEFICIARY = process.env.BENEFICIARY ?? "CN9988776655443322";
const key = Uint8Array.from(Buffer.from(PRIVKEY, "hex"));
const wallet = await DirectSecp256k1Wallet.fromKey(key, "usage");
const [{ address }] = await wallet.getAccounts();
const client = await SigningCosmWasmClient.connectWithSigner(RPC, wallet, {
  gasPrice: GasPrice.fromString("0ucny"),
});
const before = await client.getAccount(address);
const result = await client.execute(
  address,
  WITHDRAWAL,
  { request_withdrawal: { amount: AMOUNT, beneficiary: BENEFICIARY } },
  "auto",
);
const withdrawals = await client.queryContractSmart(WITHDRAWAL, {
  withdrawals: { owner: address, start_after: null, limit: 10 },
});
const found = await client.searchTx(`wasm-withdrawal_requested.owner='${address}'`);
console.log(
  JSON.stringify({
    address,
    account_before: before,
    tx_hash: result.transactionHash,
    height: result.height,
    gas_used: Number(result.gasUsed),
    gas_wanted: Number(result.gasWanted),
    withdrawals: withdrawals.withdrawals,
    search_hits: found.map((t) => t.hash),
  }),
);
client.disconnect();
