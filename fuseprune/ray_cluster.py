"""Reaching an existing Ray cluster: shared by the apps that run work on Ray (sampling, comparisons)."""

from __future__ import annotations

import socket
import subprocess
import sys
from urllib.parse import urlparse

from fuseprune.errors import ConfigError

#: Seconds a Ray address has to accept a connection before it is refused.
RAY_CONNECT_TIMEOUT = 20.0


def check_reachable(address: str, timeout: float = RAY_CONNECT_TIMEOUT) -> None:
    """Fail within about ``timeout`` seconds unless a Ray cluster accepts a connection at ``address``.

    ``ray.init`` itself may wait minutes for an address that accepts TCP
    connections but is no Ray cluster (or sits behind a proxy), so a throw-away
    process tries to connect first and is killed when the time is up.
    """
    parsed = urlparse(address if "://" in address else f"ray://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ConfigError(f"--ray-address {address!r} is not host:port (e.g. 10.0.0.5:6379 or ray://10.0.0.5:10001).")
    hint = "start one with `ray start --head` or leave out --ray-address to start a local one."
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach a Ray cluster at {address!r} ({exc.strerror or exc}); {hint}") from None
    probe = "import sys, ray; ray.init(address=sys.argv[1], logging_level=40, log_to_driver=False); ray.shutdown()"
    try:
        result = subprocess.run([sys.executable, "-c", probe, address], capture_output=True, text=True,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"cannot reach a Ray cluster at {address!r}: no answer within {timeout:.0f} s; "
                          f"{hint}") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise ConfigError(f"cannot reach a Ray cluster at {address!r} ({reason}); {hint}")
