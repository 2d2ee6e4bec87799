"""The zfs command line, as the backend uses it.

Written against zfs-fuse (which is what these machines run) and OpenZFS:
`zfs list -H -p` is refused by zfs-fuse, so exact numbers come from
`zfs get -H -p`; `zfs list` only lists names and string properties. A
property that is unset reads `-` and comes back as None.
"""

from collections.abc import Iterable, Mapping

import tenacity
from oslo_log import log

from arame.common import runner

LOG = log.getLogger(__name__)

ZFS = "zfs"


class DatasetMissing(Exception):
    pass


class DatasetExists(Exception):
    """create, clone or snapshot of a name the pool already holds."""


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, runner.CommandError) and (
        "busy" in exc.stderr or "umount failed" in exc.stderr
    )


# A file still open (tgtd letting go of a LUN, FUSE releasing a file after
# close() returned) makes unmount or destroy fail for a moment.
_retry_busy = tenacity.retry(
    retry=tenacity.retry_if_exception(_is_busy),
    stop=tenacity.stop_after_delay(30),
    wait=tenacity.wait_exponential(multiplier=0.05, max=2.0),
    before_sleep=lambda rs: LOG.info(
        "zfs busy, retrying: %s", rs.outcome.exception()
    ),
    reraise=True,
)


def _missing(exc: runner.CommandError) -> bool:
    return "does not exist" in exc.stderr


def _exists(exc: runner.CommandError) -> bool:
    # "cannot create 'tank/volumes/vol-1': dataset already exists", and
    # the same for a snapshot or a clone.
    return "dataset already exists" in exc.stderr


def _value(v: str) -> str | None:
    return None if v == "-" else v


def _props_args(props: Mapping[str, str]) -> list[str]:
    args = []
    for k, v in props.items():
        args += ["-o", f"{k}={v}"]
    return args


class ZFSCommands:
    def __init__(self, timeout: float = 120.0):
        self.timeout = timeout

    def _run(self, *args, ok_codes=(0,)) -> runner.Result:
        return runner.run(
            [ZFS, *args], timeout=self.timeout, ok_codes=ok_codes
        )

    def _make(self, *args) -> None:
        """A command that makes a dataset: DatasetExists if it is there."""
        try:
            self._run(*args)
        except runner.CommandError as e:
            if _exists(e):
                raise DatasetExists(e.stderr.strip()) from None
            raise

    # -- reading -----------------------------------------------------------
    def get(
        self, names: Iterable[str], props: Iterable[str]
    ) -> dict[str, dict[str, str | None]]:
        """Exact (-p) values of props for each dataset; DatasetMissing if
        any is absent."""
        names = list(names)
        try:
            out = self._run(
                "get",
                "-H",
                "-p",
                "-o",
                "name,property,value",
                ",".join(props),
                *names,
            ).stdout
        except runner.CommandError as e:
            if _missing(e):
                raise DatasetMissing(e.stderr.strip()) from None
            raise
        result: dict[str, dict[str, str | None]] = {n: {} for n in names}
        for line in out.splitlines():
            name, prop, value = line.split("\t", 2)
            result.setdefault(name, {})[prop] = _value(value)
        return result

    def get_one(
        self, name: str, props: Iterable[str]
    ) -> dict[str, str | None] | None:
        """props of one dataset, or None if it does not exist."""
        try:
            return self.get([name], props)[name]
        except DatasetMissing:
            return None

    def list(
        self,
        root: str,
        props: Iterable[str],
        types: str = "filesystem,volume,snapshot",
    ) -> list[dict[str, str | None]]:
        """Every dataset under root (root included), each a dict with `name`
        and props (string values as zfs prints them without -p)."""
        props = list(props)
        try:
            out = self._run(
                "list",
                "-H",
                "-o",
                ",".join(["name"] + props),
                "-t",
                types,
                "-r",
                root,
            ).stdout
        except runner.CommandError as e:
            if _missing(e):
                return []
            raise
        rows = []
        for line in out.splitlines():
            values = line.split("\t")
            row = {"name": values[0]}
            row.update(
                {p: _value(v) for p, v in zip(props, values[1:], strict=False)}
            )
            rows.append(row)
        return rows

    # -- changing ----------------------------------------------------------
    def create(
        self,
        name: str,
        props: Mapping[str, str] | None = None,
        *,
        volsize: int | None = None,
        sparse: bool = False,
    ) -> None:
        args = ["create"]
        if volsize is not None:
            args += (["-s"] if sparse else []) + ["-V", str(volsize)]
        args += _props_args(props or {})
        self._make(*args, name)

    def clone(
        self, snapshot: str, name: str, props: Mapping[str, str] | None = None
    ) -> None:
        self._make("clone", *_props_args(props or {}), snapshot, name)

    def snapshot(self, name: str) -> None:
        self._make("snapshot", name)

    def set(self, name: str, prop: str, value: str) -> None:
        self._run("set", f"{prop}={value}", name)

    @_retry_busy
    def destroy(
        self, name: str, *, recursive: bool = False, filesystem: bool = False
    ) -> None:
        """Destroy name (and its snapshots if recursive); absent is done.

        A filesystem is unmounted first: zfs-fuse refuses to destroy a
        mounted one ("dataset is busy") for as long as the kernel
        remembers any of its files, which can be many seconds after they
        were closed; unmounting makes the kernel forget them at once.
        """
        try:
            if filesystem:
                um = self._run("unmount", name, ok_codes=(0, 1))
                if um.exit_code and "not currently mounted" not in um.stderr:
                    LOG.info("zfs unmount %s: %s", name, um.stderr.strip())
            self._run("destroy", *(["-r"] if recursive else []), name)
        except runner.CommandError as e:
            if _missing(e):
                return
            if filesystem:
                # Whatever stopped the destroy, leave the dataset usable.
                self._run("mount", name, ok_codes=(0, 1))
            raise

    @_retry_busy
    def promote(self, name: str) -> None:
        self._run("promote", name)
