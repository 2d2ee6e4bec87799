"""Long-polling a task: `GET /v1/tasks/{id}?wait=N` answers as soon as the
task changes or ends instead of on the client's next poll.

Schedulers tell every API process when a task ends (a fanout cast on
topic `api_tasks`, rpcapi.py); the API process wakes the requests waiting
on it (waiters.py). A change that no cast announces (a step, an end by the
reaper, a cast lost with a dying broker or an API process started later)
is found by one batched read per API process each [api]
task_wait_recheck_interval while anyone waits, so no wait depends on the
cast arriving.
"""
