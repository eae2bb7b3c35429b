// What Keplr with a Ledger does: an amino-only signer (Secp256k1Wallet from @cosmjs/amino, an
// OfflineAminoSigner with no signDirect) signs RequestWithdrawal on C5, so SigningCosmWasmClient
// signs with SIGN_MODE_LEGACY_AMINO_JSON through createWasmAminoConverters (fee "auto": the
// chain's Simulate). Reads the withdrawal back and the tx from the chain, and prints one JSON
// line; exits non-zero on error.
// Env: RPC, WITHDRAWAL (C5 address), PRIVKEY (hex, the wallet's key), AMOUNT, and optionally
// BENEFICIARY and MEMO.
import { Secp256k1Wallet } from "@cosmjs/amino";
import { SigningCosmWasmClient, createWasmAminoConverters } from "@cosmjs/cosmwasm-stargate";
import { decodeTxRaw } from "@cosmjs/proto-signing";
import { AminoTypes, GasPrice } from "@cosmjs/stargate";

const { RPC, WITHDRAWAL, PRIVKEY, AMOUNT } = process.env;
const BENEFICIARY = process.env.BENEFICIARY ?? "CN9988776655443322";
const MEMO = process.env.MEMO ?? "";
const key = Uint8Array.from(Buffer.from(PRIVKEY, "hex"));
const wallet = await Secp256k1Wallet.fromKey(key, "usage");
const [{ address }] = await wallet.getAccounts();
const client = await SigningCosmWasmClient.connectWithSigner(RPC, wallet, {
  gasPrice: GasPrice.fromString("0ucny"),
  aminoTypes: new AminoTypes(createWasmAminoConverters()),
});
const before = await client.getAccount(address);
const result = await client.execute(
  address,
  WITHDRAWAL,
  { request_withdrawal: { amount: AMOUNT, beneficiary: BENEFICIARY } },
  "auto",
  MEMO,
);
const withdrawals = await client.queryContractSmart(WITHDRAWAL, {
  withdrawals: { owner: address, start_after: null, limit: 10 },
});
const onChain = await client.getTx(result.transactionHash);
const decoded = decodeTxRaw(onChain.tx);
console.log(
  JSON.stringify({
    address,
    account_before: before,
    tx_hash: result.transactionHash,
    height: result.height,
    gas_used: Number(result.gasUsed),
    withdrawals: withdrawals.withdrawals,
    sign_modes: decoded.authInfo.signerInfos.map((s) => s.modeInfo.single.mode),
  }),
);
client.disconnect();
