"""Joining a Ray cluster, with one-line errors for the usual mistakes."""

from __future__ import annotations

import importlib.util
import os
import re
import socket

from bot.errors import UsageError

# How long a cluster address may take to answer before it is called unreachable: Ray itself
# retries for minutes, with nothing on the terminal meanwhile.
REACH_TIMEOUT_S = 5.0
_CLIENT_PORT = 10001  # ray:// without a port
# HOST:PORT, [IPv6]:PORT or either after ray:// (an IPv6 address without brackets is left to Ray)
_HOST_PORT = re.compile(r"^(?:ray://)?(?:\[([^\]]+)\]|([^:/\[\]]+))(?::(\d+))?/?$")


def ray_module():
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install -e '.[cluster]'") from None
    return ray


def connect(address: str = "auto"):
    """Join the cluster at `address` ("auto": the one `ray start` made on this machine, else a new
    local one), unless this process already has; returns the ray module."""
    ray = ray_module()
    if ray.is_initialized():
        return ray
    # Workers log to the cluster's files, not to the user's terminal.
    options = {"log_to_driver": False, "include_dashboard": False, "configure_logging": False}
    try:
        if address == "auto" and not os.environ.get("RAY_ADDRESS"):
            try:
                ray.init(address="auto", **options)
            except ConnectionError:
                ray.init(**options)  # no running cluster here: start a local one for this process
        else:
            check_reachable(address)
            ray.init(address=address, **options)
    except ConnectionError as exc:
        raise UsageError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None
    except ValueError as exc:  # a malformed address, or ray:// without the Ray Client installed
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "not a Ray address"
        raise UsageError(f"cannot use the Ray cluster address {address!r}: {reason}") from None
    return ray


def check_reachable(address: str) -> None:
    """Fail at once, in one line, when nothing answers at a cluster's HOST:PORT (or ray://HOST:PORT)."""
    found = _HOST_PORT.match(address.strip())
    if not found or address.strip() in ("auto", "local"):
        return  # Ray's own names, or a form Ray will judge itself
    host, port = found.group(1) or found.group(2), found.group(3)
    if port is None and not address.startswith("ray://"):
        return  # Ray says what is missing
    if address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        return  # Ray first says that its client is not installed
    try:
        with socket.create_connection((host, int(port or _CLIENT_PORT)), timeout=REACH_TIMEOUT_S):
            pass
    except OSError as exc:
        why = "no answer within %g s" % REACH_TIMEOUT_S if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise UsageError(f"cannot reach the Ray cluster at {address!r}: {why}") from None


def check_workers(requested: int | None) -> None:
    """Refuse a bad worker count before any cluster is joined or started."""
    if requested is not None and requested < 1:
        raise UsageError(f"--ray-workers must be >= 1 (got {requested})")


def worker_count(requested: int | None, cpus_per_worker: float) -> int:
    """Workers to start: as asked, else as many as the cluster's CPUs hold."""
    check_workers(requested)
    if requested is not None:
        return requested
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_worker))
