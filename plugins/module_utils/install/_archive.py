# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Take a tool's binaries (``uv`` and ``uvx``, ``ruff``, ``ty``) out of a verified archive or wheel.

PRIVATE API: only for this collection's modules; names may change without notice.
This file reads one archive and writes the tool's files into a staging directory; it never
touches the network or the installed binaries. Only the expected regular members
are ever written: nothing else in an archive reaches the disk.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import gzip
import os
import re
import stat
import tarfile
import zipfile

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ArchiveError, InstallError, disk_full
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV, get_tool

__all__ = [
    "BINARIES",
    "MAX_MEMBER_BYTES",
    "MAX_RATIO",
    "archive_format",
    "check_member",
    "extract",
    "identify",
]

BINARIES = UV.binaries  # each tool's are tools.Tool.binaries
# uv itself is about 40 MB (ty too); no member of a real release comes near this. The cap
# stops a hostile archive (or a gzip or zip bomb) from filling the disk.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
# uv's binaries compress about 2.5:1 in its wheels; a member claiming more than
# 50:1 is a zip bomb, not a program.
MAX_RATIO = 50
_READ = 1024 * 1024
# tarfile reads a header record (a PAX header, a GNU long name) in one piece of the
# size it claims, before any member is judged; a real one is a few hundred bytes.
# Larger reads (member data is read in _READ pieces) are refused, so that a small
# hostile download cannot make the host hold gigabytes before its sha256 is compared.
_MAX_RECORD = _READ
# Member names longer than this are cut in messages.
_NAME_SHOWN = 200
_SCRIPT_RES = {}


def _wheel_res(tool):
    """``(scripts, WHEEL metadata)`` member patterns of ``tool``'s wheels."""
    found = _SCRIPT_RES.get(tool.name)
    if found is None:
        name = re.escape(tool.name)
        found = _SCRIPT_RES[tool.name] = (
            re.compile(r"^%s-(?P<version>[^/]+)\.data/scripts/(?P<name>%s)$"
                       % (name, "|".join(re.escape(b) for b in tool.binaries))),
            re.compile(r"^%s-[^/]+\.dist-info/WHEEL$" % name))
    return found


_TYPE_NAMES = {
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "fifo",
    tarfile.CONTTYPE: "contiguous file",
    tarfile.GNUTYPE_SPARSE: "sparse file",
    tarfile.DIRTYPE: "directory",
}


def archive_format(path):
    """``"wheel"``, ``"tar.gz"`` or ``None``, from the file's first bytes (not its name)."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except (IOError, OSError):
        return None
    if magic[:4] == b"PK\x03\x04":
        return "wheel"
    if magic[:2] == b"\x1f\x8b":
        return "tar.gz"
    return None


def _record_refused(size):
    """The error for a tar record (PAX header, GNU long name) over ``_MAX_RECORD``."""
    return ArchiveError("the archive has a tar header record of %s bytes; refused (a uv archive's are "
                        "a few hundred)" % size)


def _shown(name):
    """``repr(name)``, cut to a readable length for a message."""
    if len(name) <= _NAME_SHOWN:
        return repr(name)
    return "%r... (%d characters)" % (name[:_NAME_SHOWN], len(name))


def _normalise(name):
    while name.startswith("./"):
        name = name[2:]
    return name


def check_member(member, target, tool=UV):
    """Decide what to do with one tar member: returns a binary name, or ``None`` to skip.

    Only the folder ``<tool>-<target>/`` and the regular files of the tool's binaries in
    it (``uv-<target>/uv`` and ``uv-<target>/uvx``; ``ruff-<target>/ruff``) are
    accepted; anything else raises ``ArchiveError`` naming it.
    ``TarInfo.isreg()`` also accepts contiguous and sparse members, so the type byte is
    compared directly; a PAX sparse member has a regular type byte and is refused too.
    """
    tool = get_tool(tool)
    folder = tool.folder(target)
    name = _normalise(member.name)
    if name.rstrip("/") == folder and member.type == tarfile.DIRTYPE:
        return None
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or member.issparse():
        kind = "sparse file" if member.issparse() else _TYPE_NAMES.get(member.type, "member of type %r" % member.type)
        raise ArchiveError("the archive holds a %s %s; a %s archive holds only regular files"
                           % (kind, _shown(member.name), tool.name))
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or len(parts) != 2 or parts[0] != folder or parts[1] not in tool.binaries:
        raise ArchiveError(
            "the archive holds an unexpected member %s; a %s archive for %s holds only %s"
            % (_shown(member.name), tool.name, target, " and ".join("%s/%s" % (folder, b) for b in tool.binaries))
        )
    if member.size > MAX_MEMBER_BYTES:
        raise ArchiveError(
            "the archive member %s is %d bytes, over the %d byte cap; no %s build is that large"
            % (_shown(member.name), member.size, MAX_MEMBER_BYTES, tool.name)
        )
    return parts[1]


def _copy(source, dest, limit, label):
    """Stream ``source`` into the new file ``dest``, refusing more than ``limit`` bytes."""
    written = 0
    with open(dest, "wb") as handle:
        while True:
            chunk = source.read(_READ)
            if not chunk:
                break
            written += len(chunk)
            if written > limit:
                raise ArchiveError("the archive member %r is larger than it claims; refused" % label)
            handle.write(chunk)
    os.chmod(dest, 0o755)
    return written


def _extract_members(tar, target, staging_dir, reader=None, tool=UV):
    """The tool's binaries of an open ``tar``; ``reader``: the forward-only stream under it
    (``_archive_stream._QueueReader``), whose ``copy_member`` writes a member's data directly."""
    tool = get_tool(tool)
    found = {}
    folder = False
    for member in tar:
        binary = check_member(member, target, tool)
        if binary is None:
            # The folder once: tarfile keeps every member it read (``tar.members``), so a stream
            # of repeated folder entries (millions fit in a small download) would grow memory
            # before the download's sha256 is compared. Every other member is judged at once.
            if folder:
                raise ArchiveError("the archive holds the folder %s twice" % _shown(member.name))
            folder = True
            continue
        if binary in found:
            raise ArchiveError("the archive holds %s twice" % _shown(member.name))
        dest = os.path.join(staging_dir, binary)
        if reader is not None:
            written = reader.copy_member(member, dest)
        else:
            written = _copy(tar.extractfile(member), dest, member.size, member.name)
        if written != member.size:
            raise ArchiveError("the archive member %r is truncated" % member.name)
        found[binary] = dest
    missing = [name for name in tool.binaries if name not in found]
    if missing:
        raise ArchiveError("the archive has no %s/%s; it is not a %s release archive"
                           % (tool.folder(target), "/".join(missing), tool.name))
    return found


class _RecordCap(object):
    """A file whose reads are refused above ``_MAX_RECORD`` bytes (see there), for tarfile."""

    def __init__(self, fileobj):
        self.fileobj = fileobj

    def read(self, size=-1):
        if size is None or size < 0 or size > _MAX_RECORD:
            raise _record_refused(size if size is not None and size >= 0 else "unbounded")
        return self.fileobj.read(size)

    def seek(self, offset, whence=0):
        return self.fileobj.seek(offset, whence)

    def tell(self):
        return self.fileobj.tell()


@contextlib.contextmanager
def _open_tar_gz(archive_path):
    """``archive_path`` as a ``TarFile`` (gzip), with ``_MAX_RECORD`` on every read.

    tarfile leaves a file object it was handed open, so the gzip file is closed here.
    """
    with gzip.GzipFile(archive_path, "rb") as raw:
        with tarfile.open(fileobj=_RecordCap(raw), mode="r:") as tar:
            yield tar


def _extract_tar(archive_path, target, staging_dir, tool=UV):
    with _open_tar_gz(archive_path) as tar:
        return _extract_members(tar, target, staging_dir, tool=tool)


def _wheel_members(archive, version, tool=UV):
    """The script members of a tool's wheel, checked; ``{"uv": ZipInfo, "uvx": ZipInfo}`` for uv.

    Every other member (the package's metadata, ``uv/__init__.py``...) is skipped and
    never written; the scripts must be plain regular files of a sane size and ratio.
    """
    tool = get_tool(tool)
    script_re = _wheel_res(tool)[0]
    chosen = {}
    for info in archive.infolist():
        match = script_re.match(info.filename)
        if not match:
            continue
        if version not in (None, "latest") and match.group("version") != version:
            raise ArchiveError("the wheel holds %r, not %s %s's scripts" % (info.filename, tool.name, version))
        name = match.group("name")
        if name in chosen:
            raise ArchiveError("the wheel holds %r twice" % info.filename)
        mode = info.external_attr >> 16
        if mode and not stat.S_ISREG(mode):
            kind = "symbolic link" if stat.S_ISLNK(mode) else "non-regular member"
            raise ArchiveError("the wheel's %r is a %s; %s's scripts are regular files" % (info.filename, kind, tool.name))
        if info.flag_bits & 0x1:
            raise ArchiveError("the wheel's %r is encrypted" % info.filename)
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveError("the wheel member %r is %d bytes, over the %d byte cap; no %s build is that large"
                               % (info.filename, info.file_size, MAX_MEMBER_BYTES, tool.name))
        if info.compress_size and info.file_size > MAX_RATIO * info.compress_size:
            raise ArchiveError("the wheel member %r expands %d times (%d to %d bytes): a zip bomb, refused"
                               % (info.filename, info.file_size // info.compress_size, info.compress_size,
                                  info.file_size))
        chosen[name] = info
    missing = [name for name in tool.binaries if name not in chosen]
    if missing:
        raise ArchiveError("the wheel has no %s-%s.data/scripts/%s; it is not a %s wheel"
                           % (tool.name, version if version not in (None, "latest") else "<version>",
                              "/".join(missing), tool.name))
    return chosen


def _extract_wheel(archive_path, version, staging_dir, tool=UV):
    found = {}
    with zipfile.ZipFile(archive_path) as archive:
        for name, info in sorted(_wheel_members(archive, version, tool).items()):
            dest = os.path.join(staging_dir, name)
            with archive.open(info) as source:
                # zipfile checks the CRC and the declared size as it reads.
                written = _copy(source, dest, info.file_size, info.filename)
            if written != info.file_size:
                raise ArchiveError("the wheel member %r is truncated" % info.filename)
            found[name] = dest
    return found


_TAR_ERRORS = (tarfile.TarError, EOFError, ValueError, RuntimeError, NotImplementedError)
_ARCHIVE_ERRORS = _TAR_ERRORS + (zipfile.BadZipfile,)


def extract(archive_path, fmt, target, version, staging_dir, tool=UV):
    """Extract ``tool``'s binaries (``uv`` and ``uvx``) from a verified archive into ``staging_dir``.

    ``fmt`` is ``"tar.gz"`` (members ``uv-<target>/uv`` and ``uvx``) or ``"wheel"``
    (members ``uv-<version>.data/scripts/uv`` and ``uvx``). Returns
    ``{"uv": path, "uvx": path}`` (``{"ruff": path}`` for ruff). Raises ``ArchiveError``
    for anything that is not what such an archive holds, ``DiskFullError`` when the
    disk fills up.
    """
    try:
        if fmt == "wheel":
            return _extract_wheel(archive_path, version, staging_dir, tool)
        return _extract_tar(archive_path, target, staging_dir, tool)
    except (IOError, OSError) as exc:
        raise _os_error(exc, staging_dir, 2 * os.path.getsize(archive_path) * 3, fmt)
    except _ARCHIVE_ERRORS as exc:
        raise _not_readable(fmt, exc)


def _not_readable(fmt, why):
    return ArchiveError("the download is not a readable %s (%s)" % (
        "wheel (zip)" if fmt == "wheel" else ".tar.gz archive", why))


def _os_error(exc, staging_dir, needed, fmt):
    """What an ``OSError`` while unpacking into ``staging_dir`` means: a full disk
    (``DiskFullError``), a file that cannot be written there (``InstallError``), or else
    an archive that cannot be read (``ArchiveError``)."""
    full = disk_full(exc, os.path.dirname(staging_dir.rstrip("/")), needed)
    if full is not None:
        return full
    if getattr(exc, "filename", None) and str(exc.filename).startswith(staging_dir):
        return InstallError("cannot write %s: %s" % (exc.filename, exc.strerror or exc))
    return _not_readable(fmt, exc)


def _wheel_tags():
    """The wheel tag code, imported by the wheel paths alone (a release archive never needs it)."""
    from ansible_collections.pyfleet.uv.plugins.module_utils import wheel_tags  # pylint: disable=import-outside-toplevel
    return wheel_tags


def _wheel_facts(archive_path, tool=UV):
    """``(version, platform tags)`` of a wheel of ``tool``: its scripts' folder and its WHEEL ``Tag:`` lines."""
    script_re, meta_re = _wheel_res(get_tool(tool))
    version = None
    platforms = []
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            match = script_re.match(info.filename)
            if match:
                version = match.group("version")
            elif meta_re.match(info.filename) and info.file_size < 65536:
                platforms.extend(_wheel_tags().wheel_metadata_platforms(archive.read(info).decode("utf-8", "replace")))
    return version, platforms


def identify(archive_path, tool=UV):
    """What an archive of ``tool`` already on the host holds: ``(fmt, target_or_None, version_or_None, build)``.

    For a wheel, the version comes from its scripts' folder and the build
    ``(arch, family)`` from the ``Tag:`` lines of its WHEEL metadata (compressed tag sets
    expanded, ``wheel_tags.wheel_metadata_platforms``), or from its file name when the
    metadata names no build; when both name one, they must agree. For a release archive,
    the target comes from its one folder ``<tool>-<target>/``. Raises ``ArchiveError`` when it
    is neither, or when its name and its metadata disagree.
    """
    tool = get_tool(tool)
    prefix = tool.name + "-"
    fmt = archive_format(archive_path)
    try:
        if fmt == "wheel":
            version, platforms = _wheel_facts(archive_path, tool)
        elif fmt == "tar.gz":
            with _open_tar_gz(archive_path) as tar:
                for member in tar:
                    top = _normalise(member.name).split("/", 1)[0]
                    if top.startswith(prefix):
                        return fmt, top[len(prefix):], None, None
                    break
    except (IOError, OSError, tarfile.TarError, zipfile.BadZipfile, EOFError, ValueError, ArchiveError) as exc:
        raise ArchiveError("%s is not a readable %s archive or wheel (%s)" % (archive_path, tool.name, exc))
    if fmt == "wheel":
        tags = _wheel_tags()
        build = tags.wheel_build(platforms) if platforms else None
        named = tags.parse_wheel_name(os.path.basename(archive_path), tool.name)
        by_name = tags.wheel_build(named[1]) if named else None
        if build and by_name and build != by_name:
            raise ArchiveError("%s: its file name says the %s %s build, its WHEEL metadata the %s %s build; "
                               "refused" % ((archive_path,) + by_name + build))
        return fmt, None, version, build or by_name
    raise ArchiveError("%s is neither a %s release archive (%s) nor a %s wheel"
                       % (archive_path, tool.name, tool.archive("<target>"), tool.name))
