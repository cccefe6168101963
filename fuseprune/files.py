"""Atomic writes: a file or folder appears under its final name complete or not at all.

Everything is first written under a hidden temporary name next to its target,
``.NAME.<host>-<pid>.<random>.tmp``, so that the next write to ``NAME`` can tell
fuseprune's own leftovers from anything else: :func:`clean_leftovers` deletes
those of writers that are no longer running on this machine (a temporary of
another machine, or of a live process, is left alone).

A file is replaced with one ``rename``. A folder is replaced with one
``renameat2(RENAME_EXCHANGE)`` (Linux 3.15+, on ext4, xfs, btrfs, tmpfs and
most local file systems): the new folder and the old one swap names at once,
then the old copy, now under the temporary name, is deleted. Where the exchange
is not available (another system, or a file system without it), the second
best is used: the old folder is renamed to ``.NAME.<host>-<pid>.<random>.old.tmp``,
the new one to ``NAME``, then the old copy is deleted. A kill between those two
renames leaves ``NAME`` absent until the next write to it (or
:func:`clean_leftovers`) renames the old copy back.

These guarantees hold against a killed process, not against a power cut
(nothing is fsynced).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2
#: The part of a temporary name after ``.NAME.``: owner, random part, optional ``.old``.
_OWNED = re.compile(r"^(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.[0-9a-f]{8}(?P<old>\.old)?\.tmp$")
#: Temporaries of fuseprune 0.1.0 before owner tags (``mkstemp``/``mkdtemp`` names, ``.NAME.old``).
_UNOWNED = re.compile(r"^(?:[a-z0-9_]{8}\.tmp|(?P<old>old))$")


@functools.lru_cache(maxsize=1)
def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temporary_path(target: Path, old: bool = False) -> Path:
    """A fresh hidden temporary name next to ``target`` owned by this process."""
    suffix = ".old.tmp" if old else ".tmp"
    return target.with_name(f".{target.name}.{_host_tag()}-{os.getpid()}.{secrets.token_hex(4)}{suffix}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's live process
        return True
    return True


def remove_path(path: str | Path) -> None:
    """Delete a file, link or folder tree; a failure is logged, not raised (it is cleaned next time)."""
    path = Path(path)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not delete the temporary %s (%s); the next write there retries", path, exc)


def clean_leftovers(target: str | Path) -> None:
    """Clean what killed writes to ``target`` left next to it.

    A displaced old folder (``...old.tmp``, or ``.NAME.old`` of fuseprune 0.1.0)
    is renamed back when ``target`` is absent; every other temporary of a
    writer that is not running is deleted.
    """
    target = Path(target)
    prefix = f".{target.name}."
    try:
        entries = [e.name for e in os.scandir(target.parent) if e.name.startswith(prefix)]
    except OSError:
        return
    for name in sorted(entries, key=lambda n: not n.endswith(("old", ".old.tmp"))):  # restore first
        rest = name[len(prefix):]
        owned, unowned = _OWNED.match(rest), _UNOWNED.match(rest)
        if owned and (owned["host"] != _host_tag() or _alive(int(owned["pid"]))):
            continue
        match = owned or unowned
        if match is None:
            continue
        old = match["old"]
        if old and not os.path.lexists(target):
            log.warning("restoring %s from %s (a replacement was killed half-way)", target, name)
            os.rename(target.parent / name, target)
        else:
            remove_path(target.parent / name)


def write_text_atomic(path: str | Path, text: str, attributes: dict[str, bytes] | None = None) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename.

    ``attributes`` are extended attributes set on the file where the file system has them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(path)
    tmp = temporary_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        for name, value in (attributes or {}).items():
            set_attribute(tmp, name, value)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """Write ``payload`` as indented strict JSON, atomically (NaN or infinity raises ``ValueError``)."""
    return write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=False, allow_nan=False) + "\n")


def set_attribute(path: Path, name: str, value: bytes) -> bool:
    """Set an extended attribute; False where the system or file system has none."""
    try:
        os.setxattr(path, name, value, follow_symlinks=False)
    except (AttributeError, OSError):
        return False
    return True


def get_attribute(path: Path, name: str) -> bytes | None:
    """An extended attribute of ``path``, or None."""
    try:
        return os.getxattr(path, name)
    except (AttributeError, OSError):
        return None


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``path`` only if the block finishes.

    An exception (or a kill) inside the block leaves ``path`` untouched: the
    partial folder lives under a temporary name that the next write cleans.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(path)
    tmp = temporary_path(path)
    os.mkdir(tmp)  # 0o777 minus the umask
    try:
        yield tmp
    except BaseException:
        remove_path(tmp)
        raise
    swap_in(tmp, path)


def swap_in(new: Path, target: Path) -> None:
    """Put the folder ``new`` under the name ``target``, replacing what is there (see the module doc)."""
    if not os.path.lexists(target):
        try:
            os.rename(new, target)
            return
        except OSError as exc:  # created meanwhile: replace it like any existing target
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
                raise
    if exchange(new, target):
        remove_path(new)  # now the old copy
        return
    old = temporary_path(target, old=True)
    os.rename(target, old)
    os.rename(new, target)
    remove_path(old)


@functools.lru_cache(maxsize=1)
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # no glibc >= 2.28
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(a: Path, b: Path) -> bool:
    """Swap the names of ``a`` and ``b`` in one atomic step; False where the system cannot."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def directory_bytes(path: str | Path, keep: Callable[[Path], bool] = lambda p: True) -> int:
    """Return the total size in bytes of the files under ``path``."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file() and keep(f))
