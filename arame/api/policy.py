"""Who may do what: oslo.policy rules with defaults in code.

Roles: admin (whole cloud), member (own account, read + write), reader (own
account, read only). A policy file ([oslo_policy] policy_file) can override
any rule. Handlers declare their rule with `Depends(authorize("..."))`; the
check against the resource's account happens in `enforce()` once it is
loaded (another account's resource is a 404 there, never data).
"""

import threading

from oslo_policy import policy

from arame.api.policy_decisions import Decisions
from arame.common import exceptions
from arame.common.conf import CONF

ADMIN = "role:admin"
OWNER = "account_id:%(account_id)s"
READER = f"{ADMIN} or (role:reader and {OWNER}) or (role:member and {OWNER})"
MEMBER = f"{ADMIN} or (role:member and {OWNER})"

_base = [
    policy.RuleDefault("context_is_admin", ADMIN, "Cloud administrator."),
    policy.RuleDefault("reader", READER, "Reads the account's resources."),
    policy.RuleDefault("member", MEMBER, "Changes the account's resources."),
]


def _rule(name, check, path, methods):
    return policy.DocumentedRuleDefault(
        name,
        check,
        name.replace(":", " "),
        [{"path": path, "method": m} for m in methods],
    )


RULES = _base + [
    _rule("instances:create", "rule:member", "/v1/instances", ["POST"]),
    _rule("instances:list", "rule:reader", "/v1/instances", ["GET"]),
    _rule("instances:get", "rule:reader", "/v1/instances/{id}", ["GET"]),
    _rule("instances:delete", "rule:member", "/v1/instances/{id}", ["DELETE"]),
    _rule(
        "instances:action",
        "rule:member",
        "/v1/instances/{id}/actions",
        ["POST"],
    ),
    _rule(
        "instances:update_security_groups",
        "rule:member",
        "/v1/instances/{id}/security_groups",
        ["PUT"],
    ),
    _rule(
        "instances:metrics",
        "rule:reader",
        "/v1/instances/{id}/metrics",
        ["GET"],
    ),
    _rule(
        "instances:console",
        "rule:member",
        "/v1/instances/{id}/console",
        ["GET"],
    ),
    _rule(
        "instances:all_accounts",
        "rule:context_is_admin",
        "/v1/instances",
        ["GET"],
    ),
    _rule("volumes:create", "rule:member", "/v1/volumes", ["POST"]),
    _rule("volumes:list", "rule:reader", "/v1/volumes", ["GET"]),
    _rule("volumes:get", "rule:reader", "/v1/volumes/{id}", ["GET"]),
    _rule("volumes:delete", "rule:member", "/v1/volumes/{id}", ["DELETE"]),
    _rule(
        "volumes:action", "rule:member", "/v1/volumes/{id}/actions", ["POST"]
    ),
    _rule(
        "volumes:all_accounts", "rule:context_is_admin", "/v1/volumes", ["GET"]
    ),
    _rule("snapshots:create", "rule:member", "/v1/snapshots", ["POST"]),
    _rule("snapshots:list", "rule:reader", "/v1/snapshots", ["GET"]),
    _rule("snapshots:get", "rule:reader", "/v1/snapshots/{id}", ["GET"]),
    _rule("snapshots:delete", "rule:member", "/v1/snapshots/{id}", ["DELETE"]),
    _rule(
        "snapshots:all_accounts",
        "rule:context_is_admin",
        "/v1/snapshots",
        ["GET"],
    ),
    _rule("unit_groups:create", "rule:member", "/v1/unit_groups", ["POST"]),
    _rule("unit_groups:list", "rule:reader", "/v1/unit_groups", ["GET"]),
    _rule("unit_groups:get", "rule:reader", "/v1/unit_groups/{id}", ["GET"]),
    _rule(
        "unit_groups:delete", "rule:member", "/v1/unit_groups/{id}", ["DELETE"]
    ),
    _rule(
        "unit_groups:all_accounts",
        "rule:context_is_admin",
        "/v1/unit_groups",
        ["GET"],
    ),
    _rule("units:create", "rule:member", "/v1/units", ["POST"]),
    _rule("units:list", "rule:reader", "/v1/units", ["GET"]),
    _rule("units:get", "rule:reader", "/v1/units/{id}", ["GET"]),
    _rule("units:update", "rule:member", "/v1/units/{id}", ["PATCH"]),
    _rule("units:delete", "rule:member", "/v1/units/{id}", ["DELETE"]),
    _rule("units:action", "rule:member", "/v1/units/{id}/actions", ["POST"]),
    _rule("tasks:list", "rule:reader", "/v1/tasks", ["GET"]),
    _rule("tasks:get", "rule:reader", "/v1/tasks/{id}", ["GET"]),
    _rule("hosts:list", "rule:context_is_admin", "/v1/hosts", ["GET"]),
    _rule("hosts:show", "rule:context_is_admin", "/v1/hosts/{id}", ["GET"]),
    _rule(
        "hosts:update", "rule:context_is_admin", "/v1/hosts/{id}", ["PATCH"]
    ),
    _rule(
        "hosts:evacuate",
        "rule:context_is_admin",
        "/v1/hosts/{id}/evacuate",
        ["POST"],
    ),
    _rule(
        "hosts:set_bmc",
        "rule:context_is_admin",
        "/v1/hosts/{id}/bmc",
        ["PUT", "DELETE"],
    ),
    _rule("flavors:list", "rule:reader", "/v1/flavors", ["GET"]),
    _rule("flavors:create", "rule:context_is_admin", "/v1/flavors", ["POST"]),
    _rule(
        "flavors:delete",
        "rule:context_is_admin",
        "/v1/flavors/{name}",
        ["DELETE"],
    ),
    _rule("images:list", "rule:reader", "/v1/images", ["GET"]),
    _rule("images:get", "rule:reader", "/v1/images/{id}", ["GET"]),
    _rule("images:create", "rule:member", "/v1/images", ["POST"]),
    # A public image is seen by every account: only an admin publishes.
    _rule(
        "images:create_public", "rule:context_is_admin", "/v1/images", ["POST"]
    ),
    _rule("images:upload", "rule:member", "/v1/images/{id}/data", ["PUT"]),
    # The owner's image (an admin's for any): refused while in use.
    _rule("images:delete", "rule:member", "/v1/images/{id}", ["DELETE"]),
    # Tags: the owner's labels, changed like the resource itself.
    _rule(
        "instances:update_tags",
        "rule:member",
        "/v1/instances/{id}/tags",
        ["PUT"],
    ),
    _rule(
        "networks:update_tags",
        "rule:member",
        "/v1/networks/{id}/tags",
        ["PUT"],
    ),
    _rule(
        "security_groups:update_tags",
        "rule:member",
        "/v1/security_groups/{id}/tags",
        ["PUT"],
    ),
    _rule(
        "volumes:update_tags", "rule:member", "/v1/volumes/{id}/tags", ["PUT"]
    ),
    _rule(
        "images:update_tags", "rule:member", "/v1/images/{id}/tags", ["PUT"]
    ),
    # Bare-metal inventory: BMC credentials and whole machines, admin only.
    _rule(
        "baremetal:list",
        "rule:context_is_admin",
        "/v1/baremetal/nodes",
        ["GET"],
    ),
    _rule(
        "baremetal:get",
        "rule:context_is_admin",
        "/v1/baremetal/nodes/{id}",
        ["GET"],
    ),
    _rule(
        "baremetal:create",
        "rule:context_is_admin",
        "/v1/baremetal/nodes",
        ["POST"],
    ),
    _rule(
        "baremetal:update",
        "rule:context_is_admin",
        "/v1/baremetal/nodes/{id}",
        ["PATCH"],
    ),
    _rule(
        "baremetal:delete",
        "rule:context_is_admin",
        "/v1/baremetal/nodes/{id}",
        ["DELETE"],
    ),
    _rule(
        "baremetal:action",
        "rule:context_is_admin",
        "/v1/baremetal/nodes/{id}/actions",
        ["POST"],
    ),
    _rule("key_pairs:create", "rule:member", "/v1/key_pairs", ["POST"]),
    _rule("key_pairs:list", "rule:reader", "/v1/key_pairs", ["GET"]),
    _rule("key_pairs:get", "rule:reader", "/v1/key_pairs/{id}", ["GET"]),
    _rule("key_pairs:delete", "rule:member", "/v1/key_pairs/{id}", ["DELETE"]),
    _rule("networks:create", "rule:member", "/v1/networks", ["POST"]),
    _rule(
        "networks:create_shared",
        "rule:context_is_admin",
        "/v1/networks",
        ["POST"],
    ),
    _rule(
        "networks:create_external",
        "rule:context_is_admin",
        "/v1/networks",
        ["POST"],
    ),
    _rule("networks:list", "rule:reader", "/v1/networks", ["GET"]),
    _rule("networks:get", "rule:reader", "/v1/networks/{id}", ["GET"]),
    _rule("networks:delete", "rule:member", "/v1/networks/{id}", ["DELETE"]),
    _rule(
        "security_groups:create",
        "rule:member",
        "/v1/security_groups",
        ["POST"],
    ),
    _rule(
        "security_groups:list", "rule:reader", "/v1/security_groups", ["GET"]
    ),
    _rule(
        "security_groups:get",
        "rule:reader",
        "/v1/security_groups/{id}",
        ["GET"],
    ),
    _rule(
        "security_groups:update",
        "rule:member",
        "/v1/security_groups/{id}",
        ["PATCH"],
    ),
    _rule(
        "security_groups:delete",
        "rule:member",
        "/v1/security_groups/{id}",
        ["DELETE"],
    ),
    _rule("routers:create", "rule:member", "/v1/routers", ["POST"]),
    _rule("routers:list", "rule:reader", "/v1/routers", ["GET"]),
    _rule("routers:get", "rule:reader", "/v1/routers/{id}", ["GET"]),
    _rule("routers:update", "rule:member", "/v1/routers/{id}", ["PATCH"]),
    _rule("routers:delete", "rule:member", "/v1/routers/{id}", ["DELETE"]),
    _rule("floating_ips:create", "rule:member", "/v1/floating_ips", ["POST"]),
    _rule("floating_ips:list", "rule:reader", "/v1/floating_ips", ["GET"]),
    _rule("floating_ips:get", "rule:reader", "/v1/floating_ips/{id}", ["GET"]),
    _rule(
        "floating_ips:delete",
        "rule:member",
        "/v1/floating_ips/{id}",
        ["DELETE"],
    ),
    _rule(
        "floating_ips:action",
        "rule:member",
        "/v1/floating_ips/{id}/actions",
        ["POST"],
    ),
    _rule("usage:list", "rule:reader", "/v1/usage", ["GET"]),
    # Any authenticated caller, whatever its role.
    _rule("version:get", "@", "/v1/version", ["GET"]),
    _rule("usage:all_accounts", "rule:context_is_admin", "/v1/usage", ["GET"]),
    _rule("quotas:get", "rule:reader", "/v1/quotas/{account_id}", ["GET"]),
    _rule(
        "quotas:update",
        "rule:context_is_admin",
        "/v1/quotas/{account_id}",
        ["PUT", "PATCH"],
    ),
    _rule(
        "accounts:create", "rule:context_is_admin", "/v1/accounts", ["POST"]
    ),
    _rule("accounts:list", "rule:reader", "/v1/accounts", ["GET"]),
    _rule("accounts:get", "rule:reader", "/v1/accounts/{id}", ["GET"]),
    _rule(
        "accounts:update",
        "rule:context_is_admin",
        "/v1/accounts/{id}",
        ["PATCH"],
    ),
    _rule(
        "accounts:delete",
        "rule:context_is_admin",
        "/v1/accounts/{id}",
        ["DELETE"],
    ),
    _rule("users:create", "rule:context_is_admin", "/v1/users", ["POST"]),
    _rule("users:list", "rule:reader", "/v1/users", ["GET"]),
    _rule("users:get", "rule:reader", "/v1/users/{id}", ["GET"]),
    _rule(
        "users:update", "rule:context_is_admin", "/v1/users/{id}", ["PATCH"]
    ),
    _rule(
        "users:update_own_password",
        "user_id:%(user_id)s or rule:context_is_admin",
        "/v1/users/{id}",
        ["PATCH"],
    ),
    _rule(
        "users:delete", "rule:context_is_admin", "/v1/users/{id}", ["DELETE"]
    ),
]

_lock = threading.Lock()
_enforcer: policy.Enforcer | None = None
_decisions = Decisions()


def get_enforcer() -> policy.Enforcer:
    global _enforcer
    with _lock:
        if _enforcer is None:
            e = policy.Enforcer(CONF)
            e.register_defaults(RULES)
            _enforcer = e
        return _enforcer


def reset() -> None:
    global _enforcer, _decisions
    with _lock:
        _enforcer = None
        _decisions = Decisions()


def list_rules():
    """Entry point for oslopolicy-sample-generator."""
    return RULES


def credentials(ctxt) -> dict:
    return {
        "roles": list(ctxt.roles),
        "account_id": ctxt.account_id,
        "user_id": ctxt.user_id,
    }


def allowed(ctxt, rule: str, target_account: str | None = None) -> bool:
    # user_id is the caller's own: rules on it (users:update_own_password)
    # are only asked for the caller's own user.
    target = {
        "account_id": target_account or ctxt.account_id,
        "user_id": ctxt.user_id,
    }
    return _decisions.allowed(get_enforcer(), rule, target, credentials(ctxt))


def enforce(ctxt, rule: str, target_account: str | None = None) -> None:
    if not allowed(ctxt, rule, target_account):
        raise exceptions.Forbidden(f"not allowed: {rule}")


def enforce_owned(ctxt, rule: str, target_account: str, what: str) -> None:
    """On a loaded resource: another account's resource is not found, and
    an own resource the role may not act on is forbidden."""
    if target_account != ctxt.account_id and not ctxt.is_admin:
        raise exceptions.NotFound(f"{what} not found")
    enforce(ctxt, rule, target_account)
