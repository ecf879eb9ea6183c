"""A thread's messages, specs, price history and proposals (`GET /threads/{id}/messages`, `/specs`, `/prices`,
`/proposals`) against the chain's own views and logs, after the indexer tests' workload (see `conftest.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eth_utils import keccak
from fastapi.testclient import TestClient
from helpers.gateway_reads import assert_error, block_time, plain
from helpers.world import STATUS, gid
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.deploy import CHOIR
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World


# ------------------------------------------------------------------------------------------------------------
# Messages, specs, prices, proposals
# ------------------------------------------------------------------------------------------------------------


def _citations_on_chain(dao: Contract) -> dict[int, list[int]]:
    """message index -> cited global ids, from the thread's MessagePosted and SpecSubmitted logs."""
    out: dict[int, list[int]] = {}
    for entry in dao.events.SpecSubmitted().get_logs(from_block=0, to_block="latest"):
        out[entry["args"]["specId"]] = list(entry["args"]["citations"])
    for entry in dao.events.MessagePosted().get_logs(from_block=0, to_block="latest"):
        out[entry["args"]["index"]] = list(entry["args"]["citations"])
    return out


def _author_kinds_on_chain(dao: Contract) -> dict[int, str]:
    """message index -> the author kind's name, from the thread's MessagePosted and SpecSubmitted logs."""
    out: dict[int, str] = {}
    for entry in dao.events.SpecSubmitted().get_logs(from_block=0, to_block="latest"):
        out[entry["args"]["specId"]] = AuthorKind(entry["args"]["authorKind"]).label
    for entry in dao.events.MessagePosted().get_logs(from_block=0, to_block="latest"):
        out[entry["args"]["index"]] = AuthorKind(entry["args"]["authorKind"]).label
    return out


def test_messages(world: World, client: TestClient) -> None:
    deployment, workload = world.run.deployment, world.run.workload
    for thread_id in (1, 2):
        dao = deployment.thread(thread_id)
        page = client.get(f"/threads/{thread_id}/messages").json()
        count = dao.functions.messageCount().call()
        assert page["total"] == count == len(page["items"])
        cited = _citations_on_chain(dao)
        kinds = _author_kinds_on_chain(dao)
        assert len(kinds) == count
        for m in page["items"]:
            i = m["index"]
            assert m["author_kind"] == kinds[i] == workload.author_kinds[(thread_id, i)].label
            if (thread_id, i) == (1, 2):  # carol's spec: scored at 0 (weight 100), paid by its epoch's allocation
                assert (m["max_similarity"], m["novelty"], m["novelty_weight"]) == (0.0, 1.0, 100.0)
                assert (m["reward"], m["reward_epoch"]) == (str(workload.reward), workload.reward_epoch)
            else:  # nothing else is scored, or paid
                assert (m["max_similarity"], m["novelty"], m["novelty_weight"]) == (None, None, None)
                assert (m["reward"], m["reward_epoch"]) == (None, None)
            assert m["global_id"] == str(dao.functions.messageId(i).call()) == str(gid(thread_id, i))
            assert m["citations"] == [str(c) for c in cited.get(i, [])]
            if (thread_id, i) in workload.citations:
                assert m["citations"] == [str(c) for c in workload.citations[(thread_id, i)]]
            assert m["body"] is None
            expected_kind = "root" if i == 0 else "spec" if (thread_id, i) in workload.spec_outcomes else "post"
            assert m["kind"] == expected_kind
    thread1 = client.get("/threads/1/messages").json()["items"]
    assert thread1[1]["content_hash"] == "0x" + keccak(text="alice post").hex()
    assert thread1[1]["author"] == world.run.actors.alice.address
    tail = client.get("/threads/1/messages?limit=4&offset=4").json()
    assert [m["index"] for m in tail["items"]] == [4, 5] and tail["total"] == 6


def test_specs(world: World, client: TestClient) -> None:
    deployment, workload = world.run.deployment, world.run.workload
    for thread_id in (1, 2):
        dao = deployment.thread(thread_id)
        specs = client.get(f"/threads/{thread_id}/specs").json()["items"]
        assert {(thread_id, s["spec_id"]): s["status"] for s in specs} == {
            key: outcome for key, outcome in workload.spec_outcomes.items() if key[0] == thread_id
        }
        for s in specs:
            author, stake, price, _snapshot, deadline, eligible, approvals, denials, status = dao.functions.getSpec(
                s["spec_id"]
            ).call()
            assert (s["author"], s["stake"], s["price"], s["deadline"]) == (author, str(stake), str(price), deadline)
            assert (s["eligible"], s["approvals"], s["denials"], s["status"]) == (
                eligible,
                approvals,
                denials,
                STATUS[status],
            )
            stored = [str(c) for c in dao.functions.specCitations(s["spec_id"]).call()]
            if s["status"] in ("pending", "approved"):
                assert s["citations"] == stored
            else:  # deleted from storage at settlement (r2); the gateway keeps them from `SpecSubmitted`
                assert stored == []
            assert len(s["votes"]) == approvals + denials
            assert s["author_kind"] == workload.author_kinds[(thread_id, s["spec_id"])].label
            paid = (thread_id, s["spec_id"]) == (1, 2)  # carol's spec, scored and paid by its epoch's allocation
            assert s["novelty"] == (1.0 if paid else None)
            assert s["reward"] == (str(workload.reward) if paid else None)
    actors = world.run.actors
    split = client.get("/threads/1/specs?status=split").json()
    assert split["total"] == 1
    assert split["items"][0]["votes"] == [
        {"voter": actors.alice.address, "approve": True},
        {"voter": actors.carol.address, "approve": False},
    ]
    assert split["items"][0]["stake"] == str(41 * CHOIR + 7)
    grace = client.get("/threads/2/specs?status=denied&limit=1&offset=1").json()["items"][0]
    assert (grace["spec_id"], grace["citations"], grace["author_kind"]) == (2, [str(gid(1, 0))], "ai_prompted")
    pending = client.get("/threads/1/specs?status=pending").json()["items"]
    assert [(s["spec_id"], s["author"]) for s in pending] == [(5, actors.heidi.address)]
    assert plain(client.get("/threads/2/specs?status=approved").json()) == {
        "items": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
    }
    assert [s["spec_id"] for s in client.get("/threads/2/specs?limit=2&offset=1").json()["items"]] == [2, 3]
    assert_error(client.get("/threads/1/specs?status=maybe"), 422, "invalid_request", "status")


def test_price_history(world: World, client: TestClient) -> None:
    blocks = world.run.workload.blocks
    thread1 = client.get("/threads/1/prices").json()
    assert thread1["total"] == 2
    first, second = thread1["items"]
    assert (first["round"], first["price"], first["block"]) == (1, str(40 * CHOIR), blocks["round1"])
    assert first["timestamp"] == block_time(world, blocks["round1"])
    assert (second["round"], second["price"]) == (2, str(50 * CHOIR))
    _price, updated_at, round_ = world.run.deployment.hub.functions.pricePoint(1).call()
    assert (second["round"], second["timestamp"]) == (round_, updated_at)
    thread2 = client.get("/threads/2/prices").json()
    assert [(p["round"], p["price"]) for p in thread2["items"]] == [(1, str(20 * CHOIR))]
    assert [p["round"] for p in client.get("/threads/1/prices?limit=1&offset=1").json()["items"]] == [2]


def test_proposals_are_read_live_from_the_governor(world: World, client: TestClient) -> None:
    run = world.run
    hub, t1 = run.deployment.hub, run.deployment.thread(1)
    governor: Contract = run.chain.contract(artifacts.load("ThreadGovernor"), hub.functions.governorOf(1).call())
    action = t1.functions.transferTreasury(run.actors.heidi.address, run.workload.governance_transfer)
    calldata = action._encode_transaction_data()
    proposal_id = governor.functions.hashProposal([t1.address], [0], [calldata], keccak(text="pay heidi")).call()
    page = client.get("/threads/1/proposals").json()
    assert page["total"] == 1
    (p,) = page["items"]
    against, for_, abstain = governor.functions.proposalVotes(proposal_id).call()
    assert p == {
        "proposal_id": str(proposal_id),
        "proposer": run.actors.alice.address,
        "description": "pay heidi",
        "state": "Executed",
        "votes_for": str(for_),
        "votes_against": str(against),
        "votes_abstain": str(abstain),
        "snapshot": governor.functions.proposalSnapshot(proposal_id).call(),
        "deadline": governor.functions.proposalDeadline(proposal_id).call(),
        "eta": governor.functions.proposalEta(proposal_id).call(),
        "targets": [t1.address],
        "values": ["0"],
        "calldatas": [calldata.lower()],
    }
    assert for_ > 0 and governor.functions.state(proposal_id).call() == 7  # Executed
    assert plain(client.get("/threads/2/proposals").json()) == {"items": [], "total": 0, "limit": 20, "offset": 0}
    assert client.get("/threads/1/proposals?offset=1").json()["items"] == []
