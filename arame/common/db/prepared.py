"""Statements built once, for the paths every request or every flow step
runs (a lease's fence, a transition, a claim, a quota's take, the task
read of a long poll).

Building a SQLAlchemy statement and computing its cache key costs several
times what running it does (measured for the fence, on SQLite in one
process: 160 µs through the ORM's bulk-update path, 100 µs as a Core
statement built each time, 22 µs built once). So these are Core
statements on the table, built at import or once per shape
(functools.cache), with the values bound at execution.

A bound value is named `b_<name>`: an UPDATE reserves its columns' own
names for its SET clause.
"""

import sqlalchemy as sa


def bound(name: str, type_=None):
    """The bound value `name` of a built statement."""
    return sa.bindparam(f"b_{name}", type_=type_)


def bound_list(name: str):
    """The bound list `name` of a built statement, for an IN (...)."""
    return sa.bindparam(f"b_{name}", expanding=True)


def setting(columns) -> dict:
    """SET column = its bound value, for each of `columns` (a shape's
    sorted keys)."""
    return {c: bound(c) for c in columns}


def params(**values) -> dict:
    """The execution's values for what bound() and setting() named."""
    return {f"b_{k}": v for k, v in values.items()}
