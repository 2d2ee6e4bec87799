"""The REST API by hand (httpx): a token, a 202 and its task, a page of a
list, an idempotent retry and the shape of an error."""

import os
import time

import httpx

api = httpx.Client(base_url=os.environ["ARAME_URL"], timeout=30)

# A token for the user; then send it as a bearer token.
token = api.post(
    "/v1/auth/tokens",
    json={"username": "admin", "password": os.environ["ARAME_PASSWORD"]},
).json()
api.headers["Authorization"] = "Bearer " + token["token"]
print("roles:", token["roles"])

# A change to a host answers 202 with the record and a task to follow.
image = api.get("/v1/images").json()["items"][0]["id"]
body = {"name": "api1", "flavor": "small", "image": image}
headers = {"Idempotency-Key": "create-api1"}
first = api.post("/v1/instances", json=body, headers=headers)
print("status:", first.status_code)

# The same key again: the first answer, nothing done twice.
again = api.post("/v1/instances", json=body, headers=headers)
same = again.json()["id"] == first.json()["id"]
print("same answer:", again.status_code, same)

deadline = time.monotonic() + 60
while True:
    task = api.get(f"/v1/tasks/{first.json()['task_id']}").json()
    if task["status"] in ("done", "failed") or time.monotonic() > deadline:
        break
    time.sleep(0.2)
print("task:", task["status"])

# Lists are pages: {"items": [...], "next_marker": <id> | null}; the
# marker is the id of the last item of the previous page.
seen, marker = [], None
while True:
    params = {"limit": 1, **({"marker": marker} if marker else {})}
    page = api.get("/v1/tasks", params=params).json()
    seen += [t["id"] for t in page["items"]]
    marker = page["next_marker"]
    if marker is None:
        break
everything = api.get("/v1/tasks", params={"limit": 1000}).json()["items"]
print("paged one by one:", seen == [t["id"] for t in everything])

# Errors have one shape: {"error": {"code", "message", "details"}}.
wrong = api.post(
    f"/v1/instances/{first.json()['id']}/actions", json={"action": "start"}
)
print("error:", wrong.status_code, wrong.json()["error"]["code"])
