"""RabbitCluster's names, addresses and options, and a deployment's
arame.conf on it (no broker started here: tests/cluster/ runs one)."""

import configparser

import pytest

from arame.deploy import infra, local
from arame.deploy.infra.rabbit_cluster import RabbitCluster


def test_nodes_ports_and_transport_url(tmp_path):
    c = RabbitCluster(str(tmp_path), nodes=3, first_port=5711, prefix="t-")
    assert c.nodes == ["t-1@localhost", "t-2@localhost", "t-3@localhost"]
    assert [c.port_of(n) for n in c.nodes] == [5711, 5712, 5713]
    assert c.node("t-2@localhost").dist_port == 25712
    assert c.transport_url("arame-x/y") == (
        "rabbit://guest:guest@127.0.0.1:5711,guest:guest@127.0.0.1:5712,"
        "guest:guest@127.0.0.1:5713/arame-x%2Fy"
    )


def test_node_env_is_its_own(tmp_path):
    c = RabbitCluster(str(tmp_path), nodes=2, first_port=5711, prefix="t-")
    env = c.node("t-2@localhost")._env()
    assert env["RABBITMQ_NODENAME"] == "t-2@localhost"
    assert env["RABBITMQ_NODE_PORT"] == "5712"
    assert env["RABBITMQ_DIST_PORT"] == "25712"
    assert env["RABBITMQ_MNESIA_BASE"].startswith(str(tmp_path / "t-2"))


def _written(tmp_path, rabbit, conf=None) -> configparser.ConfigParser:
    dep = local.LocalDeployment(
        "u1", str(tmp_path / "dep"), rabbit=rabbit, conf=conf
    )
    (tmp_path / "dep").mkdir()
    dep.write_config("pw")
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(dep.config_path)
    return cp


def test_a_deployment_on_the_cluster(tmp_path):
    c = RabbitCluster(str(tmp_path / "c"), first_port=5711, prefix="t-")
    cp = _written(tmp_path, c)
    assert cp["DEFAULT"]["transport_url"] == c.transport_url("arame-u1")
    rabbit = cp["oslo_messaging_rabbit"]
    assert rabbit["rabbit_quorum_queue"] == "True"
    assert rabbit["rabbit_transient_quorum_queue"] == "True"


def test_the_deployments_own_options_win(tmp_path):
    c = RabbitCluster(str(tmp_path / "c"), first_port=5711, prefix="t-")
    own = {"oslo_messaging_rabbit": {"rabbit_transient_quorum_queue": False}}
    cp = _written(tmp_path, c, own)
    rabbit = cp["oslo_messaging_rabbit"]
    assert rabbit["rabbit_transient_quorum_queue"] == "False"
    assert rabbit["rabbit_quorum_queue"] == "True"


def test_one_broker_adds_nothing(tmp_path):
    cp = _written(tmp_path, infra.RabbitMQ())
    assert not cp.has_section("oslo_messaging_rabbit")


def test_a_base_dir_the_broker_cannot_reach_is_refused(tmp_path, monkeypatch):
    from arame.deploy.infra import rabbit_cluster

    closed = tmp_path / "closed"
    (closed / "c").mkdir(parents=True)
    closed.chmod(0o700)
    monkeypatch.setattr(rabbit_cluster, "broker_user", lambda: (1, 1))
    c = RabbitCluster(str(closed / "c"), first_port=5711, prefix="t-")
    with pytest.raises(infra.InfraError, match=str(closed)):
        c._check_reachable()
