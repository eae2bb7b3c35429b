"""A REST client as Python dApps use it: cosmpy's own REST clients (which parse every answer into
the real protobuf messages with google.protobuf.json_format, strictly: an unknown field, a wrong
type or an unresolvable Any fails) read a node's REST endpoint, and a cosmpy wallet signs and
broadcasts a contract execution through it with LedgerClient and LedgerContract.

Prints one JSON summary on stdout; any failure exits non-zero with its traceback.
Env: REST (http://127.0.0.1:PORT), CHAIN_ID, PRIVKEY (hex secret of a funded wallet), LEDGER
(C4), WITHDRAWAL (C5), DEPOSIT_TX (hash of a committed deposit), AMOUNT (to withdraw).
"""

import base64
import json
import os
import sys

from google.protobuf.json_format import MessageToDict

from cosmpy.aerial.client import LedgerClient
from cosmpy.aerial.config import NetworkConfig
from cosmpy.aerial.contract import LedgerContract
from cosmpy.aerial.contract.cosmwasm import create_cosmwasm_execute_msg
from cosmpy.aerial.tx import SigningCfg, Transaction, TxFee
from cosmpy.aerial.wallet import LocalWallet
from cosmpy.auth.rest_client import AuthRestClient
from cosmpy.bank.rest_client import BankRestClient
from cosmpy.common.rest_client import RestClient
from cosmpy.cosmwasm.rest_client import CosmWasmRestClient
from cosmpy.crypto.keypairs import PrivateKey
from cosmpy.protos.cosmos.auth.v1beta1.auth_pb2 import BaseAccount
from cosmpy.protos.cosmos.auth.v1beta1.query_pb2 import QueryAccountRequest
from cosmpy.protos.cosmos.bank.v1beta1.query_pb2 import (
    QueryAllBalancesRequest,
    QueryBalanceRequest,
)
from cosmpy.protos.cosmos.base.query.v1beta1.pagination_pb2 import PageRequest
from cosmpy.protos.cosmos.base.tendermint.v1beta1.query_pb2 import (
    GetBlockByHeightRequest,
    GetLatestBlockRequest,
    GetLatestValidatorSetRequest,
    GetNodeInfoRequest,
    GetSyncingRequest,
    GetValidatorSetByHeightRequest,
)

# Validator keys arrive as Any: their type must be known to json_format.
from cosmpy.protos.cosmos.crypto.ed25519 import keys_pb2 as _ed25519  # noqa: F401
from cosmpy.protos.cosmos.tx.v1beta1.service_pb2 import (
    GetTxRequest,
    GetTxsEventRequest,
    OrderBy,
    SimulateRequest,
)
from cosmpy.protos.cosmwasm.wasm.v1.query_pb2 import (
    QueryCodesRequest,
    QueryContractInfoRequest,
    QueryRawContractStateRequest,
    QuerySmartContractStateRequest,
)
from cosmpy.protos.cosmwasm.wasm.v1.tx_pb2 import MsgExecuteContract
from cosmpy.tendermint.rest_client import CosmosBaseTendermintRestClient
from cosmpy.tx.rest_client import TxRestClient

env = os.environ
rest_url = env["REST"]
chain_id = env["CHAIN_ID"]
ledger = env["LEDGER"]
withdrawal = env["WITHDRAWAL"]
amount = env["AMOUNT"]
wallet = LocalWallet(PrivateKey(bytes.fromhex(env["PRIVKEY"])), prefix="usage")
address = str(wallet.address())
summary = {"address": address}

rest = RestClient(rest_url)
auth = AuthRestClient(rest)
bank = BankRestClient(rest)
tendermint = CosmosBaseTendermintRestClient(rest)
wasm = CosmWasmRestClient(rest)
txs = TxRestClient(rest)

# Accounts and balances.
account = auth.Account(QueryAccountRequest(address=address))
base = BaseAccount()
assert account.account.Unpack(base), account.account.type_url
summary["account_before"] = {
    "type_url": account.account.type_url,
    "address": base.address,
    "account_number": base.account_number,
    "sequence": base.sequence,
    "has_pub_key": base.HasField("pub_key"),
}
balances = bank.AllBalances(QueryAllBalancesRequest(address=address))
summary["balances"] = [MessageToDict(c) for c in balances.balances]
summary["balances_total"] = balances.pagination.total
summary["balance"] = MessageToDict(
    bank.Balance(QueryBalanceRequest(address=address, denom="ucny")).balance
)

# The node, its blocks and validators.
node = tendermint.GetNodeInfo(GetNodeInfoRequest())
summary["node_info"] = {
    "network": node.default_node_info.network,
    "moniker": node.default_node_info.moniker,
    "app_name": node.application_version.app_name,
    "cosmos_sdk_version": node.application_version.cosmos_sdk_version,
}
summary["syncing"] = tendermint.GetSyncing(GetSyncingRequest()).syncing
latest = tendermint.GetLatestBlock(GetLatestBlockRequest())
summary["latest_block"] = {
    "height": latest.block.header.height,
    "chain_id": latest.block.header.chain_id,
    "time": latest.block.header.time.ToJsonString(),
    "proposer_address": latest.sdk_block.header.proposer_address,
    "block_id_hash": latest.block_id.hash.hex().upper(),
    "last_commit_signatures": len(latest.block.last_commit.signatures),
}
first = tendermint.GetBlockByHeight(GetBlockByHeightRequest(height=2))
summary["block_2"] = {
    "height": first.block.header.height,
    "last_block_id_hash": first.block.header.last_block_id.hash.hex().upper(),
}
validators = tendermint.GetLatestValidatorSet(GetLatestValidatorSetRequest())
summary["validators"] = [
    {
        "address": v.address,
        "pub_key_type": v.pub_key.type_url,
        "voting_power": v.voting_power,
    }
    for v in validators.validators
]
summary["validators_at_2"] = len(
    tendermint.GetValidatorSetByHeight(GetValidatorSetByHeightRequest(height=2)).validators
)

# Contracts.
info = wasm.ContractInfo(QueryContractInfoRequest(address=withdrawal))
summary["contract_info"] = {
    "address": info.address,
    "code_id": info.contract_info.code_id,
    "label": info.contract_info.label,
    "creator": info.contract_info.creator,
}
raw = wasm.RawContractState(
    QueryRawContractStateRequest(address=ledger, query_data=b"contract_info")
)
# cosmpy re-encodes the answer as JSON: here the JSON of the base64 string wasmd answers.
summary["raw_cw2"] = json.loads(base64.b64decode(json.loads(raw.data)))
smart = wasm.SmartContractState(
    QuerySmartContractStateRequest(
        address=ledger,
        query_data=json.dumps({"balance": {"address": address}}).encode(),
    )
)
summary["ledger_balance_before"] = json.loads(smart.data)
codes = wasm.Codes(QueryCodesRequest(pagination=PageRequest(limit=2)))
summary["codes_page"] = {
    "ids": [c.code_id for c in codes.code_infos],
    "next_key": base64.b64encode(codes.pagination.next_key).decode(),
}

# A committed transaction by hash, and by events in both forms.
deposit = txs.GetTx(GetTxRequest(hash=env["DEPOSIT_TX"]))
msg = MsgExecuteContract()
assert deposit.tx.body.messages[0].Unpack(msg)
summary["deposit_tx"] = {
    "txhash": deposit.tx_response.txhash,
    "height": deposit.tx_response.height,
    "code": deposit.tx_response.code,
    "timestamp": deposit.tx_response.timestamp,
    "contract": msg.contract,
    "msg_keys": sorted(json.loads(msg.msg).keys()),
    "event_types": sorted({e.type for e in deposit.tx_response.events}),
}

# Simulate a signed transaction from its bytes (the v0.50 form; LedgerClient below sends the
# legacy JSON form): the withdrawal about to be requested, at the wallet's sequence.
probe = Transaction()
probe.add_message(
    create_cosmwasm_execute_msg(
        wallet.address(),
        withdrawal,
        {"request_withdrawal": {"amount": amount, "beneficiary": "CN9988776655443322"}},
    )
)
probe.seal(
    SigningCfg.direct(wallet.public_key(), base.sequence), fee=TxFee(gas_limit=2_000_000)
)
probe.sign(wallet.signer(), chain_id, base.account_number)
probe.complete()
simulated = txs.Simulate(SimulateRequest(tx_bytes=probe.tx.SerializeToString()))
summary["simulate"] = {
    "gas_used": simulated.gas_info.gas_used,
    "events": sorted({e.type for e in simulated.result.events}),
    "msg_responses": [r.type_url for r in simulated.result.msg_responses],
}

# A wallet signs and broadcasts through the endpoint: account, simulate (fee "auto"), broadcast
# (sync), then polls the tx by hash until it is committed.
client = LedgerClient(
    NetworkConfig(
        chain_id=chain_id,
        url=f"rest+{rest_url}",
        fee_minimum_gas_price=0,
        fee_denomination="ucny",
        staking_denomination="ucny",
    ),
    query_interval_secs=1,
    query_timeout_secs=60,
)
contract = LedgerContract(None, client, address=withdrawal)
submitted = contract.execute(
    {"request_withdrawal": {"amount": amount, "beneficiary": "CN9988776655443322"}}, wallet
).wait_to_complete()
response = submitted.response
summary["execute"] = {
    "hash": response.hash,
    "height": response.height,
    "code": response.code,
    "gas_wanted": response.gas_wanted,
    "gas_used": response.gas_used,
    "events": sorted(response.events.keys()),
}
summary["withdrawals"] = contract.query(
    {"withdrawals": {"owner": address, "start_after": None, "limit": 10}}
)["withdrawals"]
after = client.query_account(wallet.address())
summary["account_after"] = {"number": after.number, "sequence": after.sequence}
summary["chain_id"] = client.query_chain_id()

# The new transaction found by events: the v0.50 query and the older events form.
by_query = txs.GetTxsEvent(
    GetTxsEventRequest(
        query=f"wasm-withdrawal_requested.owner='{address}'",
        order_by=OrderBy.ORDER_BY_DESC,
        page=1,
        limit=10,
    )
)
by_events = txs.GetTxsEvent(GetTxsEventRequest(events=[f"message.sender={address}"]))
summary["search"] = {
    "query_total": by_query.total,
    "query_hashes": [r.txhash for r in by_query.tx_responses],
    "query_senders": [
        MsgExecuteContract.FromString(t.body.messages[0].value).sender for t in by_query.txs
    ],
    "events_hashes": [r.txhash for r in by_events.tx_responses],
}

json.dump(summary, sys.stdout)
print()
