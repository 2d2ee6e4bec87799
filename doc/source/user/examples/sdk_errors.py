"""Errors are exceptions with the API's status, machine code and message."""

import os

from arame.sdk import ArameError, Client

with Client(os.environ["ARAME_URL"]) as client:
    client.login("admin", os.environ["ARAME_PASSWORD"])
    try:
        client.instances.get("i-00000000")
    except ArameError as e:
        print(e.status_code, e.code)

    try:
        client.instances.create(
            "web2", flavor="no-such-flavor", image="img-00000000"
        )
    except ArameError as e:
        print(e.status_code, e.code)
