"""find_ip_addresses(floating=True): a node's floating IP where it has one,
its own address otherwise; the default is unchanged and asks nothing
more of the API."""


def fip(address, node, fixed):
    return {
        "id": f"fip-{address.rsplit('.', 1)[1]:0>8}",
        "address": address,
        "instance_id": node.id,
        "fixed_address": fixed,
        "status": "active",
    }


def test_floating_addresses_where_nodes_have_one(sdk, cloud, spec):
    ugroup = sdk.create_ugroup("handson")
    unit = ugroup.create_unit("web", spec, num_nodes=3)
    first, second, third = unit.nodes
    cloud.floating_ips = [
        fip("203.0.113.20", first, first.ip_address),
        # Forwarded to another address of the node: reachable all the same.
        fip("203.0.113.21", third, "10.9.0.5"),
        # Allocated, not associated.
        {**fip("203.0.113.22", first, None), "instance_id": None},
    ]

    expected = ["203.0.113.20", second.ip_address, "203.0.113.21"]
    assert ugroup.find_ip_addresses(floating=True) == expected
    assert unit.find_ip_addresses("RUNNING", floating=True) == expected
    assert ugroup.find_ip_addresses(node_state="ERROR", floating=True) == []


def test_the_default_is_the_nodes_own_addresses(sdk, cloud, spec):
    ugroup = sdk.create_ugroup("handson")
    unit = ugroup.create_unit("web", spec, num_nodes=2)
    cloud.floating_ips = [fip("203.0.113.20", unit.nodes[0], None)]

    assert ugroup.find_ip_addresses() == [n.ip_address for n in unit.nodes]
    assert unit.find_ip_addresses() == [n.ip_address for n in unit.nodes]
    assert not cloud.sent("GET", "/v1/floating_ips")


def test_a_node_forwarded_on_its_own_address_wins_over_another(
    sdk, cloud, spec
):
    ugroup = sdk.create_ugroup("handson")
    [node] = ugroup.create_unit("web", spec).nodes
    cloud.floating_ips = [
        fip("203.0.113.30", node, "10.9.0.5"),
        fip("203.0.113.31", node, node.ip_address),
    ]

    assert ugroup.find_ip_addresses(floating=True) == ["203.0.113.31"]
