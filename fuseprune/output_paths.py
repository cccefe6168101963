"""Output paths that can never be written, whoever wrote what is there: checked before any work.

Refused with an :class:`~fuseprune.errors.OutputError` naming the path and the
fix: an empty path, ``.``, ``..`` or ``/``; a path whose parent is a file or
cannot be written (proven by creating and removing a temporary there, not by
permission bits); a named pipe, socket or device; a read-only file or folder
(no write permission bit at all: protected on purpose); and, for folders, a
mount point or the current folder or one holding it. A symbolic link is
followed (a dangling one is refused): the checks apply to what it points to.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fuseprune.errors import OutputError
from fuseprune.files import clean_leftovers, temporary_path


def writable_target(path: str | os.PathLike[str], option: str | None, folder: bool
                    ) -> tuple[Path, os.stat_result | None]:
    """The path to write (a link followed) and its status if it exists; leftovers of killed writes cleaned first.

    Args:
        path: The output path.
        option: The command-line option naming it, for messages (``"--out"``), or None.
        folder: Whether a folder (else a file) is to be written.

    Raises:
        OutputError: Nothing can be written there.
    """
    target = _target(path, option, folder)
    clean_leftovers(target)
    info = _check_existing(target, option, folder)
    _check_parent(target, option)
    return target, info


def _another(option: str | None) -> str:
    return f"pick another {option or 'path'}"


def _target(path: str | os.PathLike[str], option: str | None, folder: bool) -> Path:
    """The path to write (a link followed), after the checks that need no file system."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    label = option or "the output path"
    if not str(text).strip():
        raise OutputError(f"{label} is empty; name the {'folder' if folder else 'file'} to write.")
    if "\0" in str(text):
        raise OutputError(f"{label} {text!r} contains a NUL character; name another path.")
    target = Path(text)
    if target.name in ("", ".", ".."):
        raise OutputError(f"{label} {text!r} names an existing folder, not a new output; name one inside it "
                          f"(e.g. {str(Path(text) / ('out' if folder else 'out.json')).lstrip('/')!r}).")
    if not folder and str(text).endswith(os.sep):
        raise OutputError(f"{label} {text!r} names a folder; name a file.")
    if target.is_symlink():
        resolved = Path(os.path.realpath(target))
        if not os.path.lexists(resolved):
            raise OutputError(f"{str(target)!r} is a symbolic link to {str(resolved)!r}, which does not exist; "
                              f"{_another(option)} or mend the link.")
        target = resolved
    return target


def _check_parent(target: Path, option: str | None) -> None:
    """Refuse a target whose folder cannot be created or written; proven by creating a temporary there."""
    ancestor, first = target.parent, target.name
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor, first = ancestor.parent, ancestor.name
    if not ancestor.is_dir():
        raise OutputError(f"{str(target)!r} cannot be created: {str(ancestor)!r} is a file, not a folder; "
                          f"{_another(option)}.")
    probe = temporary_path(ancestor / first)
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"{str(target)!r} cannot be written: {_reason(exc)} in {str(ancestor)!r}; "
                          f"{_another(option)}.") from None


def _check_existing(target: Path, option: str | None, folder: bool) -> os.stat_result | None:
    """The target's status if it exists; refuse what is never replaced."""
    try:
        info = target.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None  # _check_parent tells which
    except OSError as exc:
        raise OutputError(f"{str(target)!r} cannot be checked ({_reason(exc)}); "
                          f"{_another(option)}.") from None
    mode = info.st_mode
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        what = {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device",
                stat.S_IFBLK: "a device"}.get(stat.S_IFMT(mode), "not a regular file")
        raise OutputError(f"{str(target)!r} is {what}; fuseprune writes only regular files and folders: "
                          f"{_another(option)}.")
    if stat.S_IMODE(mode) & 0o222 == 0:
        raise OutputError(f"{str(target)!r} is read-only; make it writable (chmod u+w) or "
                          f"{_another(option)}.")
    if stat.S_ISDIR(mode) and folder:
        if os.path.ismount(target):
            raise OutputError(f"{str(target)!r} is a mount point and cannot be replaced; "
                              f"name a folder inside it (e.g. {str(target / 'out')!r}).")
        here = Path.cwd().resolve()
        if target.resolve() in (here, *here.parents):
            raise OutputError(f"{str(target)!r} is the current folder or holds it; {_another(option)}.")
    return info


def _reason(exc: OSError) -> str:
    """The system's reason for ``exc`` in lower case (its message when it carries no ``strerror``)."""
    return (exc.strerror or str(exc)).lower()
