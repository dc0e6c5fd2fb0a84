# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import gzip
import io
import os
import queue
import stat
import sys
import tarfile
import threading
import zipfile

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.install import _archive, _archive_stream
from ansible_collections.pyfleet.uv.plugins.module_utils.install._archive import archive_format, check_member, extract, identify
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ArchiveError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "utils"))
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position

T = "x86_64-unknown-linux-gnu"
GOOD = {"uv": b"#!/bin/sh\necho 'uv 0.13.8 (%s)'\n" % T.encode(),
        "uvx": b"#!/bin/sh\necho 'uvx 0.13.8 (%s)'\n" % T.encode()}


def info(name, kind=tarfile.REGTYPE, size=0, linkname=""):
    member = tarfile.TarInfo(name)
    member.type = kind
    member.size = size
    member.linkname = linkname
    member.mode = 0o755
    return member


@pytest.mark.parametrize(
    "member, result",
    [
        (info("uv-%s" % T, tarfile.DIRTYPE), None),
        (info("uv-%s/" % T, tarfile.DIRTYPE), None),
        (info("uv-%s/uv" % T, size=10), "uv"),
        (info("./uv-%s/uvx" % T, size=10), "uvx"),
        (info("uv-%s/uv" % T, tarfile.AREGTYPE, size=10), "uv"),
    ],
)
def test_check_member_accepts(member, result):
    assert check_member(member, T) == result


@pytest.mark.parametrize(
    "member, fragment",
    [
        (info("uv-%s/../../etc/passwd" % T), "unexpected member"),
        (info("/usr/local/bin/uv"), "unexpected member"),
        (info("uv-%s/uv" % T, tarfile.SYMTYPE, linkname="/etc/shadow"), "symbolic link"),
        (info("uv-%s/uvx" % T, tarfile.LNKTYPE, linkname="/etc/shadow"), "hard link"),
        (info("uv-%s/uv" % T, tarfile.CHRTYPE), "character device"),
        (info("uv-%s/uv" % T, tarfile.BLKTYPE), "block device"),
        (info("uv-%s/uv" % T, tarfile.FIFOTYPE), "fifo"),
        (info("uv-%s/uv" % T, tarfile.CONTTYPE), "contiguous file"),
        (info("uv-%s/uv" % T, tarfile.GNUTYPE_SPARSE), "sparse file"),
        (info("uv-%s/README.md" % T), "unexpected member"),
        (info("uv-%s/sub/uv" % T), "unexpected member"),
        (info("uv-aarch64-unknown-linux-gnu/uv"), "unexpected member"),
        (info("uv-%s/evil" % T, tarfile.DIRTYPE), "directory"),
        (info("uv-%s/uv" % T, size=_archive.MAX_MEMBER_BYTES + 1), "byte cap"),
    ],
    ids=["traversal", "absolute", "symlink", "hardlink", "chardev", "blockdev", "fifo", "contiguous", "sparse",
         "extra", "nested", "other-target", "extra-dir", "too-large"],
)
def test_check_member_rejects(member, fragment):
    with pytest.raises(ArchiveError) as excinfo:
        check_member(member, T)
    assert fragment in excinfo.value.msg


def archive(tmp_path, members=None, extra=None, target=T, fmt=tarfile.DEFAULT_FORMAT):
    path = str(tmp_path / ("uv-%s.tar.gz" % target))
    uvmirror.make_archive(path, target, GOOD if members is None else members, extra, fmt)
    return path


def test_extract_tar_good(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    staged = extract(archive(tmp_path), "tar.gz", T, None, str(staging))
    assert sorted(staged) == ["uv", "uvx"]
    for name, data in GOOD.items():
        with open(staged[name], "rb") as handle:
            assert handle.read() == data
        assert os.stat(staged[name]).st_mode & 0o777 == 0o755


def test_extract_tar_missing_uvx(tmp_path):
    with pytest.raises(ArchiveError, match="no uv-%s/uvx" % T):
        extract(archive(tmp_path, {"uv": GOOD["uv"]}), "tar.gz", T, None, str(tmp_path))


def test_extract_tar_symlink_member_writes_nothing(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    evil = [(info("uv-%s/evil" % T, tarfile.SYMTYPE, linkname="/etc/passwd"), None)]
    with pytest.raises(ArchiveError, match="symbolic link"):
        extract(archive(tmp_path, extra=evil), "tar.gz", T, None, str(staging))
    assert not os.path.lexists(str(staging / "evil"))


def test_extract_tar_not_gzip(tmp_path):
    path = tmp_path / "uv.tar.gz"
    path.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ArchiveError, match="not a readable .tar.gz"):
        extract(str(path), "tar.gz", T, None, str(tmp_path))


def test_extract_tar_truncated_gzip(tmp_path):
    good = archive(tmp_path, {"uv": os.urandom(200000), "uvx": os.urandom(1000)})
    with open(good, "rb") as handle:
        data = handle.read()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError):
        extract(str(cut), "tar.gz", T, None, str(tmp_path))


def test_extract_tar_duplicate(tmp_path):
    dup = [(info("uv-%s/uv" % T, size=3), b"abc")]
    with pytest.raises(ArchiveError, match="twice"):
        extract(archive(tmp_path, extra=dup), "tar.gz", T, None, str(tmp_path))


# -- wheels ----------------------------------------------------------------------

V = "0.13.8"
WHEEL_TAG = "manylinux_2_17_x86_64.manylinux2014_x86_64"


def zinfo(name, mode=0o100755):
    item = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
    item.external_attr = mode << 16
    item.compress_type = zipfile.ZIP_DEFLATED
    return item


def wheel(tmp_path, members=None, tag=WHEEL_TAG, name=None):
    """A wheel laid out like uv's: scripts in uv-<V>.data/scripts, metadata in dist-info."""
    path = str(tmp_path / (name or "uv-%s-py3-none-%s.whl" % (V, tag)))
    if members is None:
        members = [(zinfo("uv-%s.data/scripts/uv" % V), GOOD["uv"]),
                   (zinfo("uv-%s.data/scripts/uvx" % V), GOOD["uvx"])]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zinfo("uv/__init__.py", 0o100644), b"")
        for item, data in members:
            archive.writestr(item, data)
        tags = "".join("Tag: py3-none-%s\n" % t for t in tag.split("."))
        archive.writestr(zinfo("uv-%s.dist-info/WHEEL" % V, 0o100644),
                         ("Wheel-Version: 1.0\nGenerator: maturin\nRoot-Is-Purelib: false\n" + tags).encode())
    return path


def test_extract_wheel_takes_only_the_scripts(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    staged = extract(wheel(tmp_path), "wheel", T, V, str(staging))
    assert sorted(os.listdir(str(staging))) == ["uv", "uvx"]
    for name, data in GOOD.items():
        with open(staged[name], "rb") as handle:
            assert handle.read() == data
        assert stat.S_IMODE(os.stat(staged[name]).st_mode) == 0o755


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize(
    "members, fragment",
    [
        ([(zinfo("uv-%s.data/scripts/uv" % V), GOOD["uv"])], "no uv-0.13.8.data/scripts/uvx"),
        ([(zinfo("uv-%s.data/scripts/uv" % V, 0o120777), b"/etc/passwd"),
          (zinfo("uv-%s.data/scripts/uvx" % V), GOOD["uvx"])], "symbolic link"),
        ([(zinfo("uv-0.5.11.data/scripts/uv"), GOOD["uv"]),
          (zinfo("uv-0.5.11.data/scripts/uvx"), GOOD["uvx"])], "not uv 0.13.8's scripts"),
        ([(zinfo("uv-%s.data/scripts/uv" % V), b"\0" * (4 * 1024 * 1024)),
          (zinfo("uv-%s.data/scripts/uvx" % V), GOOD["uvx"])], "zip bomb"),
        ([(zinfo("uv-%s.data/scripts/uv" % V), GOOD["uv"]), (zinfo("uv-%s.data/scripts/uv" % V), GOOD["uv"]),
          (zinfo("uv-%s.data/scripts/uvx" % V), GOOD["uvx"])], "twice"),
    ],
    ids=["missing-uvx", "symlink", "other-version", "zip-bomb", "duplicate"],
)
def test_extract_wheel_rejects(tmp_path, members, fragment):
    staging = tmp_path / "stage"
    staging.mkdir()
    with pytest.raises(ArchiveError) as excinfo:
        extract(wheel(tmp_path, members), "wheel", T, V, str(staging))
    assert fragment in excinfo.value.msg
    assert os.listdir(str(staging)) == []


def test_extract_wheel_never_writes_traversal_members(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    members = [(zinfo("../../evil"), b"x"), (zinfo("/etc/evil"), b"x"),
               (zinfo("uv-%s.data/scripts/uv" % V), GOOD["uv"]), (zinfo("uv-%s.data/scripts/uvx" % V), GOOD["uvx"])]
    extract(wheel(tmp_path, members), "wheel", T, V, str(staging))
    assert sorted(os.listdir(str(staging))) == ["uv", "uvx"]
    assert not os.path.exists(str(tmp_path / "evil"))


def test_extract_wheel_not_a_zip(tmp_path):
    path = tmp_path / "uv.whl"
    path.write_bytes(b"<html>login</html>")
    with pytest.raises(ArchiveError, match="not a readable wheel"):
        extract(str(path), "wheel", T, V, str(tmp_path))


def test_archive_format_and_identify(tmp_path):
    whl = wheel(tmp_path, tag="manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64", name="x.bin")
    assert archive_format(whl) == "wheel"
    assert identify(whl) == ("wheel", None, V, ("aarch64", "musl"))
    tgz = str(tmp_path / "a.tgz")
    uvmirror.make_archive(tgz, T, GOOD)
    assert archive_format(tgz) == "tar.gz"
    assert identify(tgz) == ("tar.gz", T, None, None)
    other = tmp_path / "other"
    other.write_bytes(b"hello")
    with pytest.raises(ArchiveError, match="neither"):
        identify(str(other))


@pytest.mark.skipif(not os.environ.get("PYFLEET_UV_MIRROR"), reason="needs the suite's wheel cache")
def test_extract_real_uv_wheel(tmp_path):
    wheels = os.path.join(os.path.dirname(os.environ["PYFLEET_UV_MIRROR"].rstrip("/")), "wheels")
    names = [n for n in os.listdir(wheels) if n.startswith("uv-%s-" % V) and "manylinux_2_17_x86_64" in n]
    if not names:
        pytest.skip("no %s x86_64 wheel cached" % V)
    path = os.path.join(wheels, names[0])
    assert identify(path) == ("wheel", None, V, ("x86_64", "gnu"))
    staged = extract(path, "wheel", T, V, str(tmp_path))
    assert os.path.getsize(staged["uv"]) > 10 * 1024 * 1024


def test_make_archive_round_trip(tmp_path):
    """The fixture builder's archives look like uv's: one folder, uv and uvx."""
    path = archive(tmp_path)
    with tarfile.open(path) as tar:
        assert tar.getnames() == ["uv-%s" % T, "uv-%s/uv" % T, "uv-%s/uvx" % T]


# -- unpacking while the download arrives (TarStream) ----------------------------

def stream(path, staging, chunk=7000, length=None):
    """Feed the archive at ``path`` to a TarStream in chunks, as Fetcher.download does."""
    unpack = _archive_stream.TarStream(T, str(staging), length)
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(chunk), b""):
            unpack.write(piece)
    return unpack.close()


def test_tar_stream_unpacks_in_chunks(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    members = {"uv": os.urandom(300000), "uvx": os.urandom(5000)}
    done = stream(archive(tmp_path, members), staging)
    assert done.error is None and sorted(done.found) == ["uv", "uvx"]
    for name, data in members.items():
        assert (staging / name).read_bytes() == data
        assert os.stat(str(staging / name)).st_mode & 0o777 == 0o755


@pytest.mark.parametrize("extra, fragment", [
    ([(info("uv-%s/../../evil" % T, size=1), b"x")], "unexpected member"),
    ([(info("uv-%s/evil" % T, tarfile.SYMTYPE, linkname="/etc/passwd"), None)], "symbolic link"),
    ([(info("uv-%s/uv" % T, size=3), b"abc")], "twice"),
], ids=["traversal", "symlink", "duplicate"])
def test_tar_stream_keeps_the_archive_error_and_writes_nothing(tmp_path, extra, fragment):
    staging = tmp_path / "stage"
    staging.mkdir()
    done = stream(archive(tmp_path, extra=extra), staging)
    assert done.found is None and fragment in done.error.msg
    assert os.listdir(str(staging)) == []


def test_tar_stream_not_gzip_is_an_archive_error(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    path = tmp_path / "page.html"
    path.write_bytes(b"<html><body>Proxy login</body></html>\n" * 500)
    done = stream(str(path), staging)
    assert "not a readable .tar.gz" in done.error.msg and os.listdir(str(staging)) == []


def big_archive_bytes(tmp_path):
    """The bytes of an archive whose uv (400 kB of noise) spans many chunks."""
    with open(archive(tmp_path, {"uv": os.urandom(400000), "uvx": os.urandom(1000)}), "rb") as handle:
        return handle.read()


def test_tar_stream_abort_removes_what_was_written(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    data = big_archive_bytes(tmp_path)
    unpack = _archive_stream.TarStream(T, str(staging))
    unpack.write(data[: len(data) // 2])
    unpack.abort()
    assert os.listdir(str(staging)) == []


def test_tar_stream_truncated_gzip_is_an_archive_error(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    data = big_archive_bytes(tmp_path)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    done = stream(str(cut), staging)
    assert done.found is None and "not a readable .tar.gz" in done.error.msg
    assert os.listdir(str(staging)) == []


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("size", [0, 1, 511, 512, 513, 262144, 262145])
def test_tar_stream_formats_and_member_sizes(tmp_path, fmt, size):
    """Member data read straight from the stream, padding skipped forward, in every tar format
    (a PAX header record before uv, as some archivers write); sizes around the block and the piece."""
    path = tmp_path / "a.tar.gz"
    members = {"uv": os.urandom(size), "uvx": os.urandom(700)}
    with tarfile.open(str(path), "w:gz", format=fmt) as tar:
        folder = tarfile.TarInfo("uv-%s" % T)
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, data in members.items():
            item = tarfile.TarInfo("uv-%s/%s" % (T, name))
            item.size = len(data)
            item.mode = 0o755
            if fmt == tarfile.PAX_FORMAT:
                item.pax_headers = {"comment": "x" * 600}
            tar.addfile(item, io.BytesIO(data))
    staging = tmp_path / "stage"
    staging.mkdir()
    for chunk in (997, 65536):
        done = stream(str(path), staging, chunk=chunk)
        assert done.error is None, done.error
        for name, data in members.items():
            assert (staging / name).read_bytes() == data


def test_tar_stream_truncated_member_is_an_archive_error(tmp_path):
    """A header that claims more data than the stream holds."""
    raw = tmp_path / "a.tar"
    with tarfile.open(str(raw), "w") as tar:
        item = tarfile.TarInfo("uv-%s/uv" % T)
        item.size = 100000
        tar.addfile(item, io.BytesIO(os.urandom(100000)))
    data = raw.read_bytes()[:512 + 40000]  # the header and part of the data, no end blocks
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(gzip.compress(data))
    staging = tmp_path / "stage"
    staging.mkdir()
    done = stream(str(path), staging)
    assert done.found is None and "truncated" in done.error.msg, done.error
    assert os.listdir(str(staging)) == []


def test_queue_reader_hands_over_pieces_and_only_goes_forward():
    pieces = queue.Queue()
    first, second = os.urandom(1000), os.urandom(3000)
    for item in (first, second, _archive_stream._END):
        pieces.put(item)
    reader = _archive_stream._QueueReader(pieces)
    assert reader.read_some(5000) is first  # a whole piece: not copied
    assert reader.read(10) == second[:10] and reader.tell() == 1010
    assert reader.seek(1500) == 1500
    with pytest.raises(OSError):
        reader.seek(1200)
    assert reader.read() == second[500:] and reader.read_some(10) == b"" and reader.tell() == 4000


def hostile_tar_gz(tmp_path, fmt, name="uv-%s/uv" % T, pax_headers=None):
    """A small tar.gz holding the folder and one member ``name`` with ``pax_headers``."""
    member = info(name, size=4)
    member.pax_headers = pax_headers or {}
    return archive(tmp_path, members={}, extra=[(member, b"ABCD")], fmt=fmt)


HUGE = 4 * 1024 * 1024


@pytest.mark.parametrize("fmt, fields", [
    (tarfile.GNU_FORMAT, {"name": "uv-%s/" % T + "a" * HUGE}),
    (tarfile.PAX_FORMAT, {"pax_headers": {"comment": "x" * HUGE}}),
], ids=["gnu-long-name", "pax-header"])
def test_huge_header_records_are_refused_before_they_are_read(tmp_path, monkeypatch, fmt, fields):
    """A few kB of gzip may claim a header record of gigabytes; tarfile would read it whole."""
    path = hostile_tar_gz(tmp_path, fmt, **fields)
    assert os.path.getsize(path) < 64 * 1024
    staging = tmp_path / "stage"
    staging.mkdir()
    asked = []
    real_read = _archive_stream._QueueReader.read

    def read(self, size=-1):
        asked.append(size)
        return real_read(self, size)

    monkeypatch.setattr(_archive_stream._QueueReader, "read", read)
    done = stream(path, staging)
    assert done.found is None and "header record" in done.error.msg, done.error
    assert max(asked) > _archive._MAX_RECORD  # it was asked for, and refused
    with pytest.raises(ArchiveError) as excinfo:
        extract(path, "tar.gz", T, None, str(staging))
    assert "header record" in excinfo.value.msg
    assert os.listdir(str(staging)) == []


def test_long_member_names_are_cut_in_messages(tmp_path):
    path = hostile_tar_gz(tmp_path, tarfile.GNU_FORMAT, name="uv-%s/" % T + "b" * 100000)
    staging = tmp_path / "stage"
    staging.mkdir()
    done = stream(path, staging)
    assert "unexpected member" in done.error.msg and "(100" in done.error.msg
    assert len(done.error.msg) < 1000


def test_pax_sparse_member_is_refused_in_both_paths(tmp_path):
    """A PAX sparse member has a regular type byte; extract() would expand it, the stream not."""
    path = hostile_tar_gz(tmp_path, tarfile.PAX_FORMAT,
                          pax_headers={"GNU.sparse.map": "0,4", "GNU.sparse.size": "1000"})
    staging = tmp_path / "stage"
    staging.mkdir()
    done = stream(path, staging)
    assert done.found is None and "sparse file" in done.error.msg
    with pytest.raises(ArchiveError) as excinfo:
        extract(path, "tar.gz", T, None, str(staging))
    assert "sparse file" in excinfo.value.msg
    assert os.listdir(str(staging)) == []


def test_queue_reader_refuses_oversized_reads():
    pieces = queue.Queue()
    for item in (b"x" * (_archive._MAX_RECORD + 10), _archive_stream._END):
        pieces.put(item)
    reader = _archive_stream._QueueReader(pieces)
    with pytest.raises(ArchiveError):
        reader.read(_archive._MAX_RECORD + 1)
    assert reader.tell() == 0  # refused before anything was read
    with pytest.raises(ArchiveError):
        reader.read()


def open_files(path):
    """This process's open files that are ``path``."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd) == path:
                found.append(fd)
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return found


def test_extract_and_identify_close_the_archive_even_when_they_fail(tmp_path):
    """tarfile leaves a file object it was handed open; the error must not keep the archive open."""
    path = hostile_tar_gz(tmp_path, tarfile.PAX_FORMAT, name="uv-%s/evil" % T)
    staging = tmp_path / "stage"
    staging.mkdir()
    with pytest.raises(ArchiveError) as excinfo:
        extract(path, "tar.gz", T, None, str(staging))
    assert "unexpected member" in excinfo.value.msg and open_files(path) == []
    assert identify(path)[1] == T and open_files(path) == []


def test_tar_stream_gunzip_failure_never_blocks_the_download(tmp_path, monkeypatch):
    """If the gunzip thread fails (MemoryError on a small host), write() must not wait forever
    on a full queue: the failure is kept and the download runs to its end."""

    class Failing(object):
        eof = False
        unconsumed_tail = b""

        def decompress(self, data, limit):
            raise MemoryError("no room")

    monkeypatch.setattr(_archive_stream.zlib, "decompressobj", lambda *args: Failing())
    staging = tmp_path / "stage"
    staging.mkdir()
    data = big_archive_bytes(tmp_path)
    result = {}

    def download():
        unpack = _archive_stream.TarStream(T, str(staging))
        for start in range(0, len(data), 1000):  # far more chunks than the queue holds
            unpack.write(data[start:start + 1000])
        result["done"] = unpack.close()

    worker = threading.Thread(target=download)
    worker.daemon = True
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the download waits on the gunzip queue"
    assert "MemoryError" in result["done"].error.msg and os.listdir(str(staging)) == []


# -- the build of a wheel already on the host, from its WHEEL metadata (identify) ----------
# The recorded WHEEL files of real uv releases (fixtures/wheels/SOURCES.md): older ones hold
# one compressed tag set, which must be expanded (issue 20: uv 0.5.11 pushed by the controller
# was "the unknown build").

from ansible_collections.pyfleet.uv.plugins.module_utils.wheel_tags import (  # noqa: E402
    parse_wheel_name,
    wheel_build,
)

WHEEL_FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "wheels")
RECORDED = sorted(n[:-len(".WHEEL")] for n in os.listdir(WHEEL_FIXTURES) if n.endswith(".whl.WHEEL"))


def recorded_wheel(directory, name, filename):
    """A wheel named ``filename`` with ``name``'s recorded WHEEL file and two scripts."""
    version = name.split("-")[1]
    with open(os.path.join(WHEEL_FIXTURES, name + ".WHEEL"), "rb") as handle:
        metadata = handle.read()
    path = str(directory / filename)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zinfo("uv-%s.data/scripts/uv" % version), GOOD["uv"])
        archive.writestr(zinfo("uv-%s.data/scripts/uvx" % version), GOOD["uvx"])
        archive.writestr(zinfo("uv-%s.dist-info/WHEEL" % version, 0o100644), metadata)
    return path


@pytest.mark.parametrize("name", RECORDED)
def test_identify_recorded_wheel_metadata(tmp_path, name):
    """The WHEEL metadata alone (a pushed file's name says nothing) gives the build the name gives."""
    version, platforms = parse_wheel_name(name)
    expected = wheel_build(platforms)
    assert expected is not None
    assert identify(recorded_wheel(tmp_path, name, "pushed.bin")) == ("wheel", None, version, expected)
    assert identify(recorded_wheel(tmp_path, name, name)) == ("wheel", None, version, expected)


def test_identify_refuses_a_name_that_contradicts_the_metadata(tmp_path):
    gnu = "uv-0.5.11-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    musl = "uv-0.5.11-py3-none-musllinux_1_1_x86_64.whl"
    path = recorded_wheel(tmp_path, musl, gnu)
    with pytest.raises(ArchiveError) as excinfo:
        identify(path)
    assert "its file name says the x86_64 gnu build, its WHEEL metadata the x86_64 musl build" in excinfo.value.msg


def test_identify_falls_back_on_the_name(tmp_path):
    """A WHEEL file with no usable Tag line: the file name still names the build."""
    path = str(tmp_path / "uv-0.5.11-py3-none-musllinux_1_1_x86_64.whl")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zinfo("uv-0.5.11.data/scripts/uv"), GOOD["uv"])
        archive.writestr(zinfo("uv-0.5.11.dist-info/WHEEL", 0o100644), b"Wheel-Version: 1.0\nTag: py3-none\n")
    assert identify(path) == ("wheel", None, "0.5.11", ("x86_64", "musl"))


def test_tar_stream_of_repeated_folder_entries_stops_at_the_second(tmp_path):
    """A small download of many folder entries (each a 512-byte header, compressed to almost nothing)
    is refused at the second one: tarfile keeps every member it read, which would grow memory
    before the download's sha256 is compared."""
    path = tmp_path / "folders.tar.gz"
    folder = tarfile.TarInfo("uv-%s/" % T)
    folder.type = tarfile.DIRTYPE
    header = folder.tobuf(format=tarfile.GNU_FORMAT)
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9) as gz:
        for _chunk in range(200):
            gz.write(header * 1000)
        with tarfile.open(fileobj=gz, mode="w:", format=tarfile.GNU_FORMAT) as tar:
            for name, data in sorted(GOOD.items()):
                member = info("uv-%s/%s" % (T, name), size=len(data))
                tar.addfile(member, io.BytesIO(data))
    path.write_bytes(raw.getvalue())
    assert path.stat().st_size < 2 * 1024 * 1024  # 200,000 entries
    staging = tmp_path / "stage"
    staging.mkdir()
    done = stream(str(path), staging, chunk=65536)
    assert done.found is None and "holds the folder" in done.error.msg and "twice" in done.error.msg, done.error
    assert os.listdir(str(staging)) == []
    with pytest.raises(ArchiveError, match="twice"):
        extract(str(path), "tar.gz", T, None, str(staging))
