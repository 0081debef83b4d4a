"""Read members of an untrusted zip archive without trusting it.

A zip names its own paths and declares its own sizes, so a hostile archive
can try to write outside the folder it is unpacked into (``../``, absolute
paths, symlinks) or expand a few kilobytes into gigabytes (a zip bomb).
:func:`inspect_zip` checks every entry's name, type and declared size from
the central directory *before* anything is decompressed;
:func:`read_members` then decompresses only the members asked for, each with
a bounded read, into memory. Nothing is ever written to disk under the
archive's own names: callers choose where (and under which name) the bytes go.

Example
-------
>>> import io, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w") as zf:
...     zf.writestr("points/points.shp", b"abc")
>>> [m.name for m in inspect_zip(buf.getvalue())]
['points/points.shp']
>>> read_members(buf.getvalue(), ["points/points.shp"])
{'points/points.shp': b'abc'}
"""

from __future__ import annotations

import io
import lzma
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

#: Errors zipfile and its decompressors raise on malformed or hostile archives.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    struct.error,
    RuntimeError,
)

_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 16


class ArchiveError(ValueError):
    """A zip archive is corrupt, or unsafe to unpack; the message says which and why."""


@dataclass(frozen=True)
class ZipLimits:
    """How much an archive may expand before it is refused as a zip bomb.

    Attributes
    ----------
    max_total_bytes
        Total declared uncompressed size of all entries.
    max_ratio
        Largest uncompressed/compressed ratio for one entry; only checked for
        entries above ``ratio_floor_bytes``, because small text files (a
        shapefile's ``.dbf`` is mostly blank padding) legitimately compress
        very well.
    ratio_floor_bytes
        Entries smaller than this are not ratio-checked.
    max_entries
        Number of entries, directories included.
    """

    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1024 * 1024
    max_entries: int = 100


@dataclass(frozen=True)
class ZipMember:
    """One regular file in an archive, as its central directory declares it."""

    name: str
    size: int
    compressed_size: int


def _unsafe_name_reason(name: str) -> str | None:
    if not name:
        return "has an empty name"
    unified = name.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        return "is an absolute path"
    if ".." in unified.split("/"):
        return "climbs out of the archive with '..'"
    if any(ord(c) < 32 for c in name):
        return "contains control characters"
    return None


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise ArchiveError(f"not a valid zip archive ({exc})") from None


def inspect_zip(data: bytes, limits: ZipLimits | None = None) -> list[ZipMember]:
    """Check an archive's entries from its central directory, decompressing nothing.

    Parameters
    ----------
    data
        The archive's bytes.
    limits
        Expansion limits; default :class:`ZipLimits`.

    Returns
    -------
    list of ZipMember
        The regular files (directories are skipped), in archive order.

    Raises
    ------
    ArchiveError
        If the archive is corrupt or empty, has too many entries, an entry
        with an absolute or ``..`` path, a symlink, an encrypted entry, a
        repeated name, or declares more expansion than ``limits`` allow.
    """
    limits = limits or ZipLimits()
    with _open(data) as zf:
        infos = zf.infolist()
    if not infos:
        raise ArchiveError("the zip archive is empty; expected a zipped Shapefile")
    if len(infos) > limits.max_entries:
        raise ArchiveError(
            f"the zip archive has {len(infos)} entries; expected at most {limits.max_entries}"
        )
    members: list[ZipMember] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        reason = _unsafe_name_reason(name)
        if reason:
            raise ArchiveError(f"zip entry {name!r} {reason}; refusing to unpack the archive")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(
                f"zip entry {name!r} is a symbolic link; expected regular files only"
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(
                f"zip entry {name!r} is encrypted; expected an archive without a password"
            )
        key = name.replace("\\", "/").casefold()
        if key in seen:
            raise ArchiveError(f"zip entry {name!r} appears more than once; expected unique names")
        seen.add(key)
        if info.is_dir():
            continue
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ArchiveError(
                f"the zip archive would unpack to more than {limits.max_total_bytes:,} bytes "
                f"(uncompressed size limit); refusing it as a possible zip bomb"
            )
        if info.file_size > limits.ratio_floor_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise ArchiveError(
                    f"zip entry {name!r} has a compression ratio of {ratio:,.0f}:1 "
                    f"(limit {limits.max_ratio:,.0f}:1); refusing it as a possible zip bomb"
                )
        members.append(ZipMember(name, info.file_size, info.compress_size))
    return members


def read_members(
    data: bytes, names: Iterable[str], limits: ZipLimits | None = None
) -> dict[str, bytes]:
    """Decompress the named members into memory after :func:`inspect_zip` passes.

    Each read stops one byte past the declared size, so an entry that lies
    about its size cannot expand beyond what was checked.

    Raises
    ------
    ArchiveError
        If the archive fails :func:`inspect_zip`, a name is not in it, a
        member is larger than declared, or its data is corrupt.
    """
    declared = {m.name: m for m in inspect_zip(data, limits)}
    out: dict[str, bytes] = {}
    with _open(data) as zf:
        for name in names:
            member = declared.get(name)
            if member is None:
                raise ArchiveError(f"zip entry {name!r} is not a regular file in the archive")
            buf = bytearray()
            try:
                with zf.open(name) as fh:
                    while len(buf) <= member.size:
                        chunk = fh.read(min(_CHUNK, member.size + 1 - len(buf)))
                        if not chunk:
                            break
                        buf += chunk
            except _ZIP_ERRORS as exc:
                raise ArchiveError(f"zip entry {name!r} is corrupt ({exc})") from None
            if len(buf) > member.size:
                raise ArchiveError(
                    f"zip entry {name!r} is larger than the {member.size:,} bytes it declares"
                )
            out[name] = bytes(buf)
    return out
