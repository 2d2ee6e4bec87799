"""Node claims: the smallest fitting available node, taken by one
conditional UPDATE; two claims of one node, one winner."""

import threading

import pytest

from arame.common.db import engine, models
from arame.scheduler.baremetal import claims

from .conftest import add_bm_instance, add_node


def _inst(iid):
    with engine.session() as s:
        return s.get(models.Instance, iid)


def test_candidates_fit_resources_class_state_and_maintenance(bm_cloud):
    add_node("small", cpus=2, memory_mb=1024, disk_gb=10)
    add_node("big", cpus=64, memory_mb=1 << 18, disk_gb=4000)
    add_node("tiny", cpus=1)
    add_node("maint", maintenance=True)
    add_node("managed", state="manageable")
    add_node("other-class", resource_class="bm.large")
    add_node("own-class", resource_class="bm.small", cpus=3)
    iid, _ = add_bm_instance(bm_cloud)
    with engine.session() as s:
        names = [
            s.get(models.BaremetalNode, n).name
            for n in claims.candidates(s, _inst(iid))
        ]
    assert names == ["small", "own-class", "big"]


def test_explain_says_why_no_node(bm_cloud):
    iid, _ = add_bm_instance(bm_cloud)
    with engine.session() as s:
        assert (
            claims.explain(s, _inst(iid)) == "no bare-metal nodes are enrolled"
        )
    add_node("tiny", cpus=1)
    add_node("maint", maintenance=True)
    with engine.session() as s:
        why = claims.explain(s, _inst(iid))
    assert "2 node(s)" in why and "1 not available or in maintenance" in why
    assert "1 too small for flavor bm.small" in why


def test_claim_sets_deploying_and_the_instance(bm_cloud):
    nid = add_node()
    iid, _ = add_bm_instance(bm_cloud)
    claims.claim(iid, nid)
    with engine.session() as s:
        node = s.get(models.BaremetalNode, nid)
        inst = s.get(models.Instance, iid)
        assert (node.provision_state, node.instance_id) == ("deploying", iid)
        assert (inst.status, inst.node_id) == ("scheduling", nid)


def test_a_claimed_or_maintenance_node_is_lost(bm_cloud):
    nid = add_node()
    a, _ = add_bm_instance(bm_cloud, name="a")
    b, _ = add_bm_instance(bm_cloud, name="b")
    claims.claim(a, nid)
    with pytest.raises(claims.ClaimLost):
        claims.claim(b, nid)
    m = add_node("m", maintenance=True)
    with pytest.raises(claims.ClaimLost):
        claims.claim(b, m)
    assert _inst(b).status == "pending" and _inst(b).node_id is None


def test_an_instance_deleted_before_the_claim_leaves_the_node(bm_cloud):
    nid = add_node()
    iid, _ = add_bm_instance(bm_cloud, status="shuttingdown")
    with pytest.raises(claims.InstanceGone):
        claims.claim(iid, nid)
    with engine.session() as s:
        node = s.get(models.BaremetalNode, nid)
        assert (node.provision_state, node.instance_id) == ("available", None)


def test_two_concurrent_claims_one_wins(bm_cloud):
    nid = add_node()
    iids = [add_bm_instance(bm_cloud, name=f"m{i}")[0] for i in range(2)]
    barrier = threading.Barrier(2)
    outcome = {}

    def take(iid):
        barrier.wait()
        try:
            claims.claim(iid, nid)
            outcome[iid] = "won"
        except claims.ClaimLost:
            outcome[iid] = "lost"

    threads = [threading.Thread(target=take, args=(i,)) for i in iids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcome.values()) == ["lost", "won"], outcome
    winner = next(i for i, v in outcome.items() if v == "won")
    with engine.session() as s:
        node = s.get(models.BaremetalNode, nid)
        assert node.instance_id == winner
    loser = next(i for i in iids if i != winner)
    assert _inst(loser).status == "pending"


def test_release_happens_once_and_only_for_the_holder(bm_cloud):
    nid = add_node()
    iid, _ = add_bm_instance(bm_cloud)
    claims.claim(iid, nid)
    assert not claims.release("i-someone", nid, "available")
    assert claims.release(iid, nid, "error", "it broke")
    assert not claims.release(iid, nid, "available")
    with engine.session() as s:
        node = s.get(models.BaremetalNode, nid)
        assert (
            node.provision_state,
            node.instance_id,
            node.status_reason,
        ) == ("error", None, "it broke")


def test_bma_host_is_recorded_on_first_use(bm_cloud):
    nid = add_node()
    with engine.session() as s:
        assert (
            claims.bma_host(s, s.get(models.BaremetalNode, nid)) == "bm-agent"
        )
    with engine.session() as s:
        assert s.get(models.BaremetalNode, nid).bma_host == "bm-agent"
