"""Guests reached from outside, on real guests (libvirt + QEMU) and real
router namespaces: a guest of the test image leaves through its router's
SNAT, answers on its floating address only while its security group
allows the port, and is never reached on its private address; deleting
the router leaves no namespace. An L3 agent SIGKILLed whose namespaces
were lost (a reboot) restores them from the records when it restarts.

"Outside" is a namespace of the deployment's own at the far end of the
external network (203.0.113.1, a documentation range): nothing here sends
a packet beyond the namespaces the test made."""

import os
import signal
import subprocess
import tempfile
import uuid

import pytest
from conftest import BOOT_TIMEOUT, _vm_deployment, wait_task, wait_until

from tests.helpers.subnets import free_subnet

pytestmark = pytest.mark.functional

MARK = "ARAME-TEST-IMAGE"
UPSTREAM = "203.0.113.1"
SERVICE_PORT = 8080
LISTEN_PORT = 9000

# Started from user data, in the background: a TCP service answering one
# line, and a client telling the outside listener who it is, each second.
USER_DATA = f"""#!/bin/sh
printf '#!/bin/sh\\necho GUEST-SERVICE-OK\\n' > /run/svc.sh
chmod 0755 /run/svc.sh
(while :; do nc -ll -p {SERVICE_PORT} -e /run/svc.sh; sleep 1; done) \
    > /dev/null 2>&1 &
(while :; do echo GUEST-OUT | nc -w 2 {UPSTREAM} {LISTEN_PORT}; sleep 1; \
    done) > /dev/null 2>&1 &
echo SERVICES-STARTED
"""

# In the outside namespace: note each peer's address, one line each.
LISTENER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
while True:
    c, peer = s.accept()
    with open(sys.argv[3], "a") as f:
        f.write(peer[0] + "\\n")
    c.close()
"""

# In the outside namespace: what the service says, or why nothing.
CLIENT = """
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    c.settimeout(2)
    print(c.recv(100).decode().strip())
except OSError as e:
    print("NO-ANSWER", e)
"""


@pytest.fixture(scope="module")
def routed(infrastructure, libvirt_lab, tmp_path_factory):
    yield from _vm_deployment(
        infrastructure, libvirt_lab, tmp_path_factory, routers=True
    )


@pytest.fixture(scope="module")
def routed_image(routed):
    c = routed.client()
    return next(i["id"] for i in c.images.list() if i["name"] == "arame-test")


@pytest.fixture(scope="module")
def public(routed):
    """The external network on the outside namespace's veth."""
    return routed.client().networks.create(
        "public",
        "203.0.113.0/24",
        "public.test",
        segmentation="flat",
        external=True,
        physical_network="public",
        gateway=UPSTREAM,
        dhcp_ranges=[["203.0.113.10", "203.0.113.250"]],
    )


def outside(dep, *args, **kw):
    return subprocess.run(
        ["ip", "netns", "exec", dep.outside_netns, *args],
        capture_output=True,
        text=True,
        timeout=30,
        **kw,
    )


def ask(dep, address: str, port: int = SERVICE_PORT) -> str:
    return outside(dep, "python3", "-c", CLIENT, address, str(port)).stdout


def test_a_guest_reached_on_its_floating_address_only(
    routed, libvirt_lab, routed_image, public
):
    c = routed.client()
    run = uuid.uuid4().hex[:6]
    ext = public
    net = c.networks.create(
        f"rtnet-{run}", free_subnet(libvirt_lab.netns), "rt.test"
    )
    web = c.security_groups.create(
        f"web-{run}",
        rules_text=f"tcp:{SERVICE_PORT},{SERVICE_PORT},ip4:0.0.0.0/0\n",
    )
    router = c.routers.create(
        f"r-{run}", external_network=ext["id"], networks=[net["id"]]
    )
    wait_task(c, router["task_id"], timeout=60)
    router = c.routers.get(router["id"])
    assert router["status"] == "active", router
    gateway_address = router["external_address"]
    namespace = f"{routed.name}-{router['id']}"
    assert (
        namespace
        in subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True
        ).stdout
    )

    peers = os.path.join(tempfile.mkdtemp(prefix="routing-"), "peers")
    open(peers, "w").close()
    listener = subprocess.Popen(
        [
            "ip", "netns", "exec", routed.outside_netns, "python3", "-c",
            LISTENER, UPSTREAM, str(LISTEN_PORT), peers,
        ]
    )  # fmt: skip
    inst = None
    fip = None
    try:
        inst = c.instances.create(
            f"svc-{run}",
            "small",
            routed_image,
            network=net["id"],
            security_groups=[web["id"]],
            user_data=USER_DATA,
        )
        wait_task(c, inst["task_id"])
        wait_until(
            lambda: (
                f"{MARK} ready" in c.instances.console(inst["id"])["output"]
            ),
            BOOT_TIMEOUT,
            "the guest ready",
            interval=0.5,
        )
        private = c.instances.get(inst["id"])["addresses"][0]["ip_address"]

        def seen() -> list[str]:
            with open(peers) as f:
                return f.read().split()

        # Out through the router: the outside sees its address only.
        wait_until(
            lambda: gateway_address in seen(),
            60,
            f"the guest's connection from {gateway_address}",
            interval=0.5,
        )
        assert private not in seen()

        fip = c.floating_ips.allocate(ext["id"])
        wait_task(
            c, c.floating_ips.associate(fip["id"], inst["id"])["task_id"]
        )
        address = fip["address"]
        shown = c.instances.get(inst["id"])["addresses"][0]
        assert shown.get("floating_ip") == address, shown
        assert c.floating_ips.get(fip["id"])["fixed_address"] == private

        # In through the floating address.
        got = wait_until(
            lambda: (
                (a := ask(routed, address)).startswith("GUEST-SERVICE-OK")
                and a
            ),
            30,
            f"the guest's service on {address}",
            interval=0.5,
        )
        assert "GUEST-SERVICE-OK" in got
        # Its own connections now leave with the floating address.
        open(peers, "w").close()
        wait_until(
            lambda: address in seen(),
            30,
            f"the guest's connection from {address}",
            interval=0.5,
        )
        # The private address is not reachable from outside, even by a
        # host that routes to it through the router.
        assert (
            outside(
                routed,
                "ip", "route", "replace", net["cidr"], "via", gateway_address,
            ).returncode
            == 0
        )  # fmt: skip
        assert ask(routed, private).startswith("NO-ANSWER")

        # The security group still decides what reaches the guest.
        wait_task(
            c, c.security_groups.update(web["id"], rules_text="")["task_id"]
        )
        assert ask(routed, address).startswith("NO-ANSWER")
        wait_task(
            c,
            c.security_groups.update(
                web["id"],
                rules_text=f"tcp:{SERVICE_PORT},{SERVICE_PORT},ip4:0.0.0.0/0",
            )["task_id"],
        )
        wait_until(
            lambda: ask(routed, address).startswith("GUEST-SERVICE-OK"),
            30,
            "the service answering again",
            interval=0.5,
        )

        # Disassociated: gone from the outside, kept by the account.
        wait_task(c, c.floating_ips.disassociate(fip["id"])["task_id"])
        assert ask(routed, address).startswith("NO-ANSWER")
        assert c.floating_ips.get(fip["id"])["instance_id"] is None
    finally:
        listener.kill()
        listener.wait()
        if inst is not None:
            wait_task(c, c.instances.delete(inst["id"])["task_id"])
        if fip is not None:
            c.floating_ips.release(fip["id"])
    wait_task(c, c.routers.delete(router["id"])["task_id"], timeout=60)
    assert (
        namespace
        not in subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True
        ).stdout
    )


def test_a_killed_l3_agent_whose_routers_were_lost_restores_them(
    routed, libvirt_lab, routed_image, public
):
    # The failure story of the router's host: the agent SIGKILLed and its
    # namespaces gone with it (as at a reboot). Nothing reaches the guest
    # until a new agent starts; its resync at start, from the collector's
    # records alone, makes the router whole and the guest answers again.
    c = routed.client()
    run = uuid.uuid4().hex[:6]
    ext = public
    net = c.networks.create(
        f"rtnet-{run}", free_subnet(libvirt_lab.netns), "rt.test"
    )
    web = c.security_groups.create(
        f"web-{run}",
        rules_text=f"tcp:{SERVICE_PORT},{SERVICE_PORT},ip4:0.0.0.0/0\n",
    )
    router = c.routers.create(
        f"r-{run}", external_network=ext["id"], networks=[net["id"]]
    )
    wait_task(c, router["task_id"], timeout=60)
    namespace = f"{routed.name}-{router['id']}"
    inst = c.instances.create(
        f"svc-{run}",
        "small",
        routed_image,
        network=net["id"],
        security_groups=[web["id"]],
        user_data=USER_DATA,
    )
    wait_task(c, inst["task_id"])
    fip = c.floating_ips.allocate(ext["id"])
    wait_task(c, c.floating_ips.associate(fip["id"], inst["id"])["task_id"])
    address = fip["address"]
    try:
        wait_until(
            lambda: ask(routed, address).startswith("GUEST-SERVICE-OK"),
            BOOT_TIMEOUT,
            f"the guest's service on {address}",
            interval=0.5,
        )
        routed.stop("l3", sig=signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", namespace], check=True)
        assert ask(routed, address).startswith("NO-ANSWER")

        routed.start("l3")
        wait_until(
            lambda: ask(routed, address).startswith("GUEST-SERVICE-OK"),
            60,
            "the guest reachable again after the agent's resync",
            interval=0.5,
        )
        assert c.routers.get(router["id"])["status"] == "active"
    finally:
        wait_task(c, c.instances.delete(inst["id"])["task_id"])
        c.floating_ips.release(fip["id"])
        wait_task(c, c.routers.delete(router["id"])["task_id"], timeout=60)
    assert (
        namespace
        not in subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True
        ).stdout
    )
