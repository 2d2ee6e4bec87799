#!/usr/bin/env python3
"""Storage benchmark: a volume from an image (ZFS clone) against a full copy,
and iSCSI throughput (tgtd + qemu's initiator) against the raw file.

    python3 bench/storage.py                 # 1 GiB and 100 GiB images
    python3 bench/storage.py --big-gb 20 --repeat 20 --json > out.json

Run as root from the repository. It uses the running zfs-fuse or starts
one, makes a pool `bench<rand>` on a sparse file and its own tgtd on a
loopback portal, and removes all of it at the end (see
arame/deploy/storage.py). Goal: a volume from an image in at
most 100 ms, the same for a 1 GiB and a 100 GiB image.
"""

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

# bench/lib: this script's directory is first on sys.path.
from lib import environment, stats
from lib.run import log

import arame.cmd  # noqa: F401  (threading backend first)
from arame.agents.sta.backends.zfs import ZFSBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.tgt import TgtTarget
from arame.common import ids, runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GiB, MiB = 1024**3, 1024**2
CTXT = {}
PW = "Bench-chap-0001"


from arame.deploy import storage as daemons  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--small-gb",
        type=int,
        default=1,
        help="size of the image with real data (and of the copy)",
    )
    p.add_argument(
        "--big-gb", type=int, default=100, help="size of the sparse image"
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=10,
        help="volumes made from each image (timed one by one)",
    )
    p.add_argument(
        "--copies",
        type=int,
        default=3,
        help="full copies of the small image (the reference)",
    )
    p.add_argument(
        "--io-mib",
        type=int,
        default=512,
        help="bytes written then read, through iSCSI and the file",
    )
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.add_argument("--save", help="also write the JSON to this file")
    return p.parse_args(argv)


def timed(fn, *a, **kw):
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t0, out


def write_data_image(path: str, size: int) -> str:
    """Non-zero bytes all along (a copy must really write them); sha256."""
    h = hashlib.sha256()
    block = os.urandom(4 * MiB)
    with open(path, "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
            h.update(block)
    return h.hexdigest()


def write_sparse_image(path: str, size: int) -> str:
    """A MiB of data at the start and the end, holes between."""
    mark = b"\xa5" * MiB
    with open(path, "wb") as f:
        f.write(mark)
        f.seek(size - MiB)
        f.write(mark)
    # The same bytes hashed without reading the holes back.
    h = hashlib.sha256(mark)
    zeros = bytes(16 * MiB)
    left = size - 2 * MiB
    while left:
        n = min(left, len(zeros))
        h.update(zeros[:n] if n < len(zeros) else zeros)
        left -= n
    h.update(mark)
    return h.hexdigest()


def import_image(mgr, import_dir, size, data: bool) -> dict:
    iid = ids.generate("image")
    path = os.path.join(import_dir, f"{iid}.raw")
    log(
        f"writing a {size // GiB} GiB {'data' if data else 'sparse'} image ..."
    )
    sha = (write_data_image if data else write_sparse_image)(path, size)
    log("importing it (sha256 checked while writing) ...")
    secs, _ = timed(mgr.import_image, CTXT, iid, path, sha, size)
    os.unlink(path)
    return {
        "id": iid,
        "size_gb": size // GiB,
        "import_s": secs,
        "import_mib_per_s": size / MiB / secs,
    }


def clone_times(mgr, pool, image: dict, repeat: int) -> dict:
    """create_volume through the manager (checks, lock, zfs clone, grow,
    mark), then the zfs clone command alone, each `repeat` times."""
    create, clone, used = [], [], []
    for _ in range(repeat):
        vid = ids.generate("volume")
        secs, _ = timed(
            mgr.create_volume,
            CTXT,
            {"id": vid, "size_gb": image["size_gb"], "image_id": image["id"]},
        )
        create.append(secs * 1000)
        used.append(int(pool.get(f"{pool.name}/volumes/{vid}", "used")))
        mgr.delete_volume(CTXT, vid)
        name = f"{pool.name}/volumes/{ids.generate('volume')}"
        secs, _ = timed(
            runner.run,
            ["zfs", "clone", f"{pool.name}/images/{image['id']}@base", name],
        )
        clone.append(secs * 1000)
        mgr.backend.zfs.destroy(name, filesystem=True)
    return {
        "create_volume_ms": stats.summary(create),
        "zfs_clone_ms": stats.summary(clone),
        "clone_used_bytes_max": max(used),
    }


def copy_times(zfs, pool, image: dict, copies: int) -> dict:
    """What a backend without clones does: a new dataset and a full copy."""
    src = os.path.join(pool.mountpoint, "images", image["id"], "disk.raw")
    cp, cp_sync = [], []
    for n in range(copies):
        ds = f"{pool.name}/copy{n}"
        runner.run(["zfs", "create", ds])
        dst = os.path.join(pool.mountpoint, f"copy{n}", "disk.raw")
        t0 = time.perf_counter()
        runner.run(["cp", "--sparse=never", src, dst], timeout=600)
        t1 = time.perf_counter()
        runner.run(["sync", "-f", dst], timeout=600)
        t2 = time.perf_counter()
        cp.append(t1 - t0)
        cp_sync.append(t2 - t0)
        zfs.destroy(ds, filesystem=True)
    return {"cp_s": stats.summary(cp), "cp_sync_s": stats.summary(cp_sync)}


_RATE = re.compile(r"\(([\d.]+) (KiB|MiB|GiB)/sec")


def qemu_io_rates(args: list[str], mib: int) -> dict:
    """Write then read `mib` MiB in one command each; qemu-io's own rates
    (connection set-up not counted)."""
    p = subprocess.run(
        args
        + ["-c", f"write -P 0x55 0 {mib}M", "-c", f"read -P 0x55 0 {mib}M"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if p.returncode != 0 or "verification failed" in p.stdout:
        raise RuntimeError(f"qemu-io failed: {p.stdout}{p.stderr}")
    unit = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
    w, r = [float(v) * unit[u] for v, u in _RATE.findall(p.stdout)]
    return {"write_mib_per_s": w, "read_mib_per_s": r}


def io_rates(mgr, tgtd, image: dict, mib: int, workdir: str) -> dict:
    out = {}
    iscsi_vol, file_vol = ids.generate("volume"), ids.generate("volume")
    for v in (iscsi_vol, file_vol):
        mgr.create_volume(
            CTXT,
            {"id": v, "size_gb": image["size_gb"], "image_id": image["id"]},
        )
    try:
        conn = mgr.export_volume(CTXT, iscsi_vol, "127.0.0.1", "u-bench", PW)
        secret = os.path.join(workdir, "chap")
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(PW)
        opts = ",".join(
            [
                "driver=raw",
                "file.driver=iscsi",
                "file.transport=tcp",
                f"file.portal={conn['portal']}",
                f"file.target={conn['iqn']}",
                "file.lun=1",
                "file.user=u-bench",
                "file.password-secret=sec0",
            ]
        )
        out["iscsi"] = qemu_io_rates(
            [
                "qemu-io",
                "--object",
                f"secret,id=sec0,file={secret}",
                "--image-opts",
                opts,
            ],
            mib,
        )
        path = mgr.backend.get_volume(file_vol).path
        # The same qemu-io on the kind of file tgtd serves: with O_DIRECT
        # (what the pool itself delivers), and through the page cache with
        # each write flushed (as tgtd's rdwr backing store reads and
        # writes). Each on a fresh clone, as the iSCSI one.
        out["file_direct"] = qemu_io_rates(
            ["qemu-io", "-f", "raw", "-t", "none", path], mib
        )
        mgr.delete_volume(CTXT, file_vol)
        mgr.create_volume(
            CTXT,
            {
                "id": file_vol,
                "size_gb": image["size_gb"],
                "image_id": image["id"],
            },
        )
        path = mgr.backend.get_volume(file_vol).path
        out["file_cached"] = qemu_io_rates(
            ["qemu-io", "-f", "raw", "-t", "writethrough", path], mib
        )
    finally:
        mgr.unexport_volume(CTXT, iscsi_vol, force=True)
        for v in (iscsi_vol, file_vol):
            mgr.delete_volume(CTXT, v)
    return out


def ratios(res: dict) -> dict:
    small, big = res["clone"]["small"], res["clone"]["big"]
    out = {
        "create_volume_big_over_small_p50": big["create_volume_ms"]["p50"]
        / small["create_volume_ms"]["p50"],
        "full_copy_over_create_volume_p50": res["copy"]["cp_sync_s"]["p50"]
        * 1000
        / small["create_volume_ms"]["p50"],
    }
    io = res.get("io")
    for f in ("file_direct", "file_cached") if io else ():
        for op in ("write", "read"):
            out[f"iscsi_over_{f}_{op}"] = (
                io["iscsi"][f"{op}_mib_per_s"] / io[f][f"{op}_mib_per_s"]
            )
    return out


def print_report(res: dict) -> None:
    p = print
    a = res["args"]
    m = res["machine"]
    p(f"Arame storage benchmark, {res['date']}")
    p(
        f"machine: {m['cores']} cores, {m['memory_gib']} GiB, load at start "
        f"{m['loadavg_at_start']}; code {res['code'].get('commit')} "
        f"(+{res['code'].get('arame_uncommitted', '?')} uncommitted in arame/)"
    )
    p(
        f"pool {res['pool']} on zfs-fuse ({'ours' if res['zfs_fuse_started'] else 'already running'}), "
        f"tgtd on 127.0.0.1:{res['portal_port']}"
    )
    for key in ("small", "big"):
        i = res["images"][key]
        c = res["clone"][key]
        p("")
        p(
            f"{i['size_gb']} GiB image (import {i['import_s']:.1f} s, "
            f"{i['import_mib_per_s']:.0f} MiB/s):"
        )
        p(f"  create_volume (manager)  ms  {_fmt(c['create_volume_ms'])}")
        p(f"  zfs clone alone          ms  {_fmt(c['zfs_clone_ms'])}")
        p(
            f"  space a new volume uses: {c['clone_used_bytes_max'] / 1024:.0f} KiB"
        )
    cp = res["copy"]
    p("")
    p(f"full copy of the {a['small_gb']} GiB image (cp --sparse=never):")
    p(f"  cp                       s   {_fmt(cp['cp_s'], '{:8.2f}')}")
    p(f"  cp + sync                s   {_fmt(cp['cp_sync_s'], '{:8.2f}')}")
    if res.get("io"):
        p("")
        p(f"throughput, {a['io_mib']} MiB written then read (MiB/s):")
        for k, label in (
            ("iscsi", "qemu-io over iSCSI (tgtd)"),
            ("file_direct", "raw file, O_DIRECT"),
            ("file_cached", "raw file, page cache"),
        ):
            v = res["io"][k]
            p(
                f"  {label:<28s} write {v['write_mib_per_s']:7.0f}   "
                f"read {v['read_mib_per_s']:7.0f}"
            )
    p("")
    p("ratios:")
    for k, v in res["ratios"].items():
        p(f"  {k:<36s}{v:8.2f}")
    goal = res["goal"]
    p("")
    p(
        f"goal: create_volume p50 <= 100 ms for both sizes: "
        f"{'MET' if goal['under_100ms'] else 'NOT MET'}; "
        f"big/small p50 {res['ratios']['create_volume_big_over_small_p50']:.2f}"
    )
    if res.get("failure"):
        p(f"RUN FAILED: {res['failure']}")


def _fmt(s, num="{:8.1f}"):
    return "  ".join(f"{k} {num.format(s[k])}" for k in ("p50", "p95", "max"))


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # zfs-fuse's "dataset is busy" retries, if any, on stderr.
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="[%(asctime)s] %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("arame.agents.sta.backends.zfs_cli").setLevel(
        logging.INFO
    )
    run = "bench" + uuid.uuid4().hex[:4]
    workdir = tempfile.mkdtemp(prefix=f"arame-{run}-")
    res = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "machine": environment.machine(),
        "code": environment.code_version(),
        "pool": run,
    }
    zfs = daemons.ZfsFuse(workdir)
    pool = daemons.Pool(
        run, workdir, size_gb=args.small_gb * (args.copies + 2) + 4
    )
    tgtd = None
    rc = 0
    try:
        zfs.ensure()
        res["zfs_fuse_started"] = zfs.pid is not None
        pool.create()
        tgtd = daemons.Tgtd(os.path.join(workdir, "tgtd.log"))
        tgtd.start()
        res["portal_port"] = tgtd.port
        import_dir = os.path.join(workdir, "import")
        os.mkdir(import_dir)
        backend = ZFSBackend(run, "file", timeout=600)
        backend.init_host()
        target = TgtTarget(
            "127.0.0.1",
            tgtd.port,
            "2025-01",
            f"org.arame.{run}",
            control_port=tgtd.control_port,
        )
        mgr = STAManager(
            backend,
            target,
            max_volume_gb=max(args.big_gb, 1024),
            import_dirs=[import_dir],
        )
        res["images"] = {
            "small": import_image(mgr, import_dir, args.small_gb * GiB, True),
            "big": import_image(mgr, import_dir, args.big_gb * GiB, False),
        }
        res["clone"] = {}
        for key in ("small", "big"):
            log(f"{args.repeat} volumes from the {key} image ...")
            res["clone"][key] = clone_times(
                mgr, pool, res["images"][key], args.repeat
            )
        log(f"{args.copies} full copies of the small image ...")
        res["copy"] = copy_times(
            backend.zfs, pool, res["images"]["small"], args.copies
        )
        log(f"iSCSI and file throughput ({args.io_mib} MiB) ...")
        res["io"] = io_rates(
            mgr, tgtd, res["images"]["small"], args.io_mib, workdir
        )
        for img in res["images"].values():
            mgr.delete_image(CTXT, img["id"])
        res["ratios"] = ratios(res)
        res["goal"] = {
            "under_100ms": all(
                c["create_volume_ms"]["p50"] <= 100
                for c in res["clone"].values()
            )
        }
    except BaseException as e:  # noqa: B902 - report, then tear down
        res["failure"] = f"{type(e).__name__}: {e}"
        log(f"failed: {res['failure']}")
        rc = 1
    finally:
        log("tearing down (tgtd, pool, zfs-fuse if ours) ...")
        if tgtd is not None:
            tgtd.stop()
        if run in zfs.pools():
            pool.destroy()
        zfs.stop_if_unused()
        if rc == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir} (tgtd.log) for inspection")
    if args.save:
        with open(args.save, "w") as f:
            json.dump(res, f, indent=2, default=str)
    if args.json:
        json.dump(res, sys.stdout, indent=2, default=str)
        print()
    elif not res.get("failure"):
        print_report(res)
    else:
        print(f"RUN FAILED: {res['failure']}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
