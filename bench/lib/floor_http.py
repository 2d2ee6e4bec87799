"""The HTTP share of a cycle's floor: as many requests as one boot+delete
cycle makes (the control-plane benchmark prints them: about six), served
by the same stack as arame-api (uvicorn, FastAPI, pydantic, the same
uvicorn settings) from an app that reads and writes nothing, and sent by
httpx as the SDK sends them. No auth, no database, no bus: a lower
bound."""

import subprocess
import sys

import httpx

from arame.common.waiting import wait_for

from .run import Deadline, run_threads

# A task's JSON as a poll returns it, about the same size.
TASK = {
    "id": "0" * 36,
    "status": "done",
    "action": "create",
    "resource_id": "1" * 36,
    "events": [{"step": f"step-{i}", "status": "done"} for i in range(8)],
}


def app():
    import fastapi
    import pydantic

    class Create(pydantic.BaseModel):
        name: str
        flavor: str
        image: str

    api = fastapi.FastAPI()

    @api.post("/v1/instances", status_code=202)
    def create(body: Create):
        return {"id": "1" * 36, "task_id": "0" * 36, "name": body.name}

    @api.get("/v1/tasks/{task_id}")
    def task(task_id: str, wait: int = 0):
        return TASK

    @api.get("/v1/instances/{iid}")
    def get(iid: str):
        return {"id": iid, "status": "running"}

    @api.delete("/v1/instances/{iid}", status_code=202)
    def delete(iid: str):
        return {"task_id": "0" * 36}

    return api


def serve(port: int) -> int:
    import uvicorn

    # arame-api's own settings (arame/api/service.py).
    uvicorn.run(
        app(),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
    )
    return 0


class HTTPFloor:
    def __init__(
        self, script: str, port: int, requests: int, concurrency: int
    ):
        if requests < 3:
            raise ValueError("a cycle makes at least 3 requests")
        self.requests = requests
        self.proc = subprocess.Popen(
            [sys.executable, script, "--serve-http", str(port)],
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        self.clients = [
            httpx.Client(base_url=base, timeout=30) for _ in range(concurrency)
        ]
        wait_for(
            self._answers,
            60,
            "the HTTP floor's server to answer",
            ignore=(httpx.TransportError,),
        )

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError("the HTTP floor's server exited")
        return self.clients[0].get("/v1/instances/x").is_success

    def pids(self) -> dict[int, str]:
        return {self.proc.pid: "HTTP server (uvicorn, FastAPI)"}

    def _cycle(self, c: httpx.Client) -> None:
        """The cycle's mix: create, polls, the check, delete, polls."""
        polls = self.requests - 3
        before = (polls + 1) // 2
        task, inst = "/v1/tasks/" + "0" * 36, "/v1/instances/" + "1" * 36
        c.post(
            "/v1/instances",
            json={"name": "n", "flavor": "small", "image": "i"},
        ).raise_for_status()
        for _ in range(before):
            c.get(task, params={"wait": 30}).raise_for_status()
        c.get(inst).raise_for_status()
        c.delete(inst).raise_for_status()
        for _ in range(polls - before):
            c.get(task, params={"wait": 30}).raise_for_status()

    def warm(self) -> None:
        for c in self.clients:
            self._cycle(c)

    def run(self, cycles: int, deadline: Deadline) -> int:
        return run_threads(
            [lambda c=c: self._cycle(c) for c in self.clients],
            cycles,
            deadline,
        )

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
