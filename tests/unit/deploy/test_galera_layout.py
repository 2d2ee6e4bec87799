"""The Galera cluster's layout on one machine and HAProxy's configuration:
one writer, the others backups, a Synced-aware check, sticky choice."""

from arame.deploy.infra import haproxy
from arame.deploy.infra.galera import GaleraCluster


def test_ports_and_node_configuration(tmp_path):
    c = GaleraCluster(str(tmp_path), nodes=3, first_port=3311)
    assert c.nodes == ["node1", "node2", "node3"]
    assert c.proxy_port == 3310
    n2 = c.node("node2")
    assert (n2.port, n2.gcomm_port, n2.check_port) == (3312, 4577, 9312)
    cnf = c._config(n2)
    assert "wsrep_cluster_address = gcomm://127.0.0.1:4567," in cnf
    assert "gmcast.listen_addr=tcp://127.0.0.1:4577" in cnf
    assert "ist.recv_addr=127.0.0.1:4578" in cnf
    assert "wsrep_sst_receive_address = 127.0.0.1:4579" in cnf
    assert "wsrep_sst_method = rsync" in cnf
    assert "user = mysql" in cnf
    assert "port = 3306" not in cnf


def test_haproxy_sends_everything_to_one_node():
    backends = [
        haproxy.Backend(f"node{i}", 3310 + i, 9310 + i) for i in (1, 2, 3)
    ]
    cfg = haproxy.render(3310, backends, "/x/haproxy.sock")
    servers = [ln.split() for ln in cfg.splitlines() if "server node" in ln]
    assert [s[-1] == "backup" for s in servers] == [False, True, True]
    assert all("port" in s and "check" in s for s in servers)
    assert "bind 127.0.0.1:3310" in cfg
    assert "option httpchk" in cfg
    assert "on-marked-down shutdown-sessions" in cfg
    assert "stick on int(1)" in cfg
    # Idle pooled connections outlive the pool's recycle (1 h).
    assert "timeout client 90m" in cfg and "timeout server 90m" in cfg


def test_the_check_listens_where_told(monkeypatch):
    from arame.deploy.infra import galera_check

    served = []
    monkeypatch.setattr(galera_check, "serve", served.append)
    galera_check.main(["9311=/n1/mysqld.sock", "10.0.0.11:9200=/run/m.sock"])
    assert served == [
        [
            (("127.0.0.1", 9311), "/n1/mysqld.sock"),
            (("10.0.0.11", 9200), "/run/m.sock"),
        ]
    ]


def test_a_node_that_does_not_answer_is_not_synced(tmp_path):
    from arame.deploy.infra import galera_check

    assert not galera_check.synced(str(tmp_path / "none.sock"), timeout=0.2)


class _Server:
    """What pymysql.connect reaches: a node's state, and whether it is up."""

    def __init__(self):
        self.up = True
        self.state = "4"
        self.connects = 0


class _Conn:
    def __init__(self, server):
        self.server, self.open = server, True

    def cursor(self):
        conn = self

        class Cursor:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, _query):
                if not (conn.open and conn.server.up):
                    raise ConnectionError("gone")

            def fetchall(self):
                return [
                    ("wsrep_local_state", conn.server.state),
                    ("wsrep_ready", "ON"),
                ]

        return Cursor()

    def close(self):
        self.open = False


def test_the_check_keeps_one_connection_and_follows_the_node(monkeypatch):
    import pymysql

    from arame.deploy.infra import galera_check

    server = _Server()

    def connect(**kw):
        if not server.up:
            raise ConnectionError("refused")
        server.connects += 1
        return _Conn(server)

    monkeypatch.setattr(pymysql, "connect", connect)
    node = galera_check.Node("/n1/mysqld.sock")
    assert [node.synced() for _ in range(5)] == [True] * 5
    assert server.connects == 1  # not one per check
    server.state = "2"  # donor: HAProxy must move the writer
    assert node.synced() is False
    server.state = "4"
    server.up = False  # killed: the kept connection fails, so does a new one
    assert node.synced() is False
    server.up = True  # restarted: a new connection, synced again
    assert node.synced() is True
    assert server.connects == 2
