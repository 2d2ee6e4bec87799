"""Hooks the schemathesis run of test_schemathesis.py loads (it names this
module in SCHEMATHESIS_HOOKS).

The fuzzer must keep its own credentials: a new password for the user
whose token it sends ends every token of that user, and every request
after it would be a 401 that tests nothing. Its own user is swapped for
another one (ARAME_FUZZ_SELF -> ARAME_FUZZ_OTHER) in that one operation;
every other request goes out as generated.

A long poll (`GET /v1/tasks/{task_id}?wait=`) may be held up to [api]
max_task_wait (60 s), past the run's request timeout, on a task that
never changes: its wait is capped at one second (still schema-valid).
"""

import os

import schemathesis

SELF = os.environ.get("ARAME_FUZZ_SELF")
OTHER = os.environ.get("ARAME_FUZZ_OTHER")


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters or {}
    if (
        case.method.upper() == "PATCH"
        and case.operation.path == "/v1/users/{user_id}"
        and SELF
        and params.get("user_id") == SELF
    ):
        params["user_id"] = OTHER
    query = case.query or {}
    wait = query.get("wait")
    if case.operation.path == "/v1/tasks/{task_id}" and isinstance(
        wait, int | float
    ):
        query["wait"] = min(wait, 1)
