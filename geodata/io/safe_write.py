"""Write a file the user named, atomically, and never over anything unexpected.

Every file the project writes at a user's request (``import --save``,
``import --report``, *Save to disk*) goes through :func:`write_text_atomic`:

* the target is checked first (:func:`check_target`): its folder must exist,
  and an existing target is refused unless ``overwrite`` is given, and even
  then only if it is a regular file, never a folder, a device such as
  ``/dev/full``, a FIFO or a symbolic link;
* the text goes to a temporary file beside the target (``.<name>.*.tmp``),
  is flushed and fsynced, and only then takes the target's name: by
  ``os.link`` when overwriting is not allowed (which fails, atomically, if
  the name was taken meanwhile), else by ``os.replace``. A full disk, a
  read-only file system or a kill mid-write leaves the previous state and
  removes the temporary file.

Nothing is written anywhere else: no other folder, no other name.

Example
-------
>>> import tempfile
>>> from pathlib import Path
>>> out = Path(tempfile.mkdtemp()) / "a.txt"
>>> write_text_atomic(out, "one\\n").read_text()
'one\\n'
>>> write_text_atomic(out, "two\\n")
Traceback (most recent call last):
...
geodata.io.safe_write.TargetError: ... already exists; expected a new file name, or allow \
overwriting it (CLI: --force)
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import tempfile
from pathlib import Path

from geodata.io.quoting import quote_input

_WRITE_CHUNK = 1 << 16


class TargetError(ValueError):
    """The path named for writing cannot be used; the message says why and what to do."""


def check_target(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """``path`` as a Path if a file may be written there; else :class:`TargetError`.

    Checks only what can be known before writing; the write itself can still
    fail (disk full, read-only file system), with an ``OSError``.
    """
    path = Path(path)
    shown = quote_input(str(path))
    if not path.name or path.name in (".", ".."):
        raise TargetError(f"{shown} names no file; expected a file name such as out.yaml")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise TargetError(
            f"the folder {quote_input(str(folder))} {what}; expected an existing folder "
            "(create it first)"
        )
    try:
        info = path.lstat()
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise TargetError(f"{shown} cannot be checked: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise TargetError(f"{shown} is a folder; expected a file name inside it, e.g. out.yaml")
    if stat.S_ISLNK(info.st_mode):
        raise TargetError(
            f"{shown} is a symbolic link; expected the name of a regular file (the link "
            "target is never written through)"
        )
    if not stat.S_ISREG(info.st_mode):
        raise TargetError(
            f"{shown} exists and is not a regular file (a device, pipe or socket); "
            "expected the name of a regular file"
        )
    if not overwrite:
        raise TargetError(
            f"{shown} already exists; expected a new file name, or allow overwriting it "
            "(CLI: --force)"
        )
    return path


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, overwrite: bool = False,
    encoding: str = "utf-8",
) -> Path:
    """Write ``text`` to ``path`` atomically, after :func:`check_target`; return the path.

    Raises
    ------
    TargetError
        If the target may not be written (see :func:`check_target`).
    OSError
        If writing fails (disk full, read-only file system, no permission);
        nothing is left behind and an existing target is unchanged.
    """
    path = check_target(path, overwrite=overwrite)
    try:
        _write(path, text, overwrite, encoding)
    except OSError as exc:
        # Name the user's file, never our temporary one.
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    return path


def _write(path: Path, text: str, overwrite: bool, encoding: str) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
            _write_text(fh, text)
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp_name, path, overwrite)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _write_text(fh: io.TextIOBase, text: str) -> None:
    for start in range(0, len(text), _WRITE_CHUNK):
        fh.write(text[start : start + _WRITE_CHUNK])


def _publish(tmp_name: str, path: Path, overwrite: bool) -> None:
    """Give the finished temporary file the target's name."""
    if overwrite:
        check_target(path, overwrite=True)  # still a regular file, not swapped for a device
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
        return
    os.chmod(tmp_name, 0o644)
    try:
        os.link(tmp_name, path)
    except FileExistsError:
        raise TargetError(
            f"{quote_input(str(path))} was created while writing; nothing was written over it"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # A file system without hard links: claim the name exclusively, then replace it.
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            raise TargetError(
                f"{quote_input(str(path))} was created while writing; nothing was written "
                "over it"
            ) from None
        os.replace(tmp_name, path)
        return
    os.unlink(tmp_name)
