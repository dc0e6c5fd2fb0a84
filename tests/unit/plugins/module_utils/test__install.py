# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import sys
import tarfile
import threading
import time

import pytest

from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.helpers import host_run

from ansible_collections.pyfleet.uv.plugins.module_utils import _install
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ArchiveError, InstallError
from ansible_collections.pyfleet.uv.plugins.module_utils._install import (
    STAGING_PREFIX,
    DirLock,
    check_member,
    extract_binaries,
    install_staged,
    remove_install,
    remove_stale_staging,
    verify_staged,
    write_receipt,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._installed import RECEIPT_NAME, read_receipt

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "utils"))
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
        (info("uv-%s/uv" % T, size=_install.MAX_MEMBER_BYTES + 1), "byte cap"),
    ],
    ids=["traversal", "absolute", "symlink", "hardlink", "chardev", "blockdev", "fifo", "contiguous", "sparse",
         "extra", "nested", "other-target", "extra-dir", "too-large"],
)
def test_check_member_rejects(member, fragment):
    with pytest.raises(ArchiveError) as excinfo:
        check_member(member, T)
    assert fragment in excinfo.value.msg


def archive(tmp_path, members=None, extra=None, target=T):
    path = str(tmp_path / ("uv-%s.tar.gz" % target))
    uvmirror.make_archive(path, target, GOOD if members is None else members, extra)
    return path


def test_extract_binaries_good(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    staged = extract_binaries(archive(tmp_path), T, str(staging))
    assert sorted(staged) == ["uv", "uvx"]
    for name, data in GOOD.items():
        with open(staged[name], "rb") as handle:
            assert handle.read() == data
        assert os.stat(staged[name]).st_mode & 0o777 == 0o755


def test_extract_binaries_missing_uvx(tmp_path):
    with pytest.raises(ArchiveError, match="no uv-%s/uvx" % T):
        extract_binaries(archive(tmp_path, {"uv": GOOD["uv"]}), T, str(tmp_path))


def test_extract_binaries_symlink_member_writes_nothing(tmp_path):
    staging = tmp_path / "stage"
    staging.mkdir()
    evil = [(info("uv-%s/evil" % T, tarfile.SYMTYPE, linkname="/etc/passwd"), None)]
    with pytest.raises(ArchiveError, match="symbolic link"):
        extract_binaries(archive(tmp_path, extra=evil), T, str(staging))
    assert not os.path.lexists(str(staging / "evil"))


def test_extract_binaries_not_gzip(tmp_path):
    path = tmp_path / "uv.tar.gz"
    path.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ArchiveError, match="not a readable .tar.gz"):
        extract_binaries(str(path), T, str(tmp_path))


def test_extract_binaries_truncated_gzip(tmp_path):
    good = archive(tmp_path, {"uv": os.urandom(200000), "uvx": os.urandom(1000)})
    with open(good, "rb") as handle:
        data = handle.read()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError):
        extract_binaries(str(cut), T, str(tmp_path))


def test_extract_binaries_duplicate(tmp_path):
    dup = [(info("uv-%s/uv" % T, size=3), b"abc")]
    with pytest.raises(ArchiveError, match="twice"):
        extract_binaries(archive(tmp_path, extra=dup), T, str(tmp_path))


def stage(tmp_path, uv_body, uvx_body):
    directory = tmp_path / "staged"
    directory.mkdir()
    staged = {}
    for name, body in (("uv", uv_body), ("uvx", uvx_body)):
        path = directory / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)
        staged[name] = str(path)
    return staged


def test_verify_staged_ok(tmp_path):
    staged = stage(tmp_path, "echo 'uv 0.13.8 (%s)'" % T, "echo 'uvx 0.13.8 (%s)'" % T)
    assert verify_staged(staged, "0.13.8", host_run) == (True, "0.13.8")
    assert verify_staged(staged, "latest", host_run) == (True, "0.13.8")


def test_verify_staged_loader_error(tmp_path):
    message = "./uv: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by ./uv)"
    staged = stage(tmp_path, "cat >&2 <<'EOF'\n%s\nEOF\nexit 1" % message, "echo 'uvx 0.13.8'")
    ok, reason = verify_staged(staged, "0.13.8", host_run)
    assert not ok and "GLIBC_2.34" in reason and "does not run here" in reason


def test_verify_staged_wrong_version(tmp_path):
    staged = stage(tmp_path, "echo 'uv 0.5.11'", "echo 'uvx 0.5.11'")
    ok, reason = verify_staged(staged, "0.13.8", host_run)
    assert not ok and "0.5.11, not 0.13.8" in reason


def test_verify_staged_cannot_exec(tmp_path):
    staged = stage(tmp_path, "", "")
    with open(staged["uv"], "wb") as handle:
        handle.write(b"\x7fELF" + b"\x00" * 60)  # an ELF this kernel will not run
    ok, reason = verify_staged(staged, "0.13.8", host_run)
    assert not ok and "does not run here" in reason


def test_install_staged_and_receipt(tmp_path):
    dest = tmp_path / "bin"
    dest.mkdir()
    staging = tmp_path / "bin" / (STAGING_PREFIX + "x")
    staging.mkdir()
    staged = {}
    for name in ("uv", "uvx"):
        (staging / name).write_bytes(GOOD[name])
        staged[name] = str(staging / name)
    moved = install_staged(os.rename, staged, str(dest))
    assert moved == [str(dest / "uv"), str(dest / "uvx")]
    assert os.stat(moved[0]).st_mode & 0o777 == 0o755
    write_receipt(str(dest), str(staging), {"version": "0.13.8", "target": T, "sha256": "a" * 64})
    assert read_receipt(str(dest))["target"] == T
    assert remove_stale_staging(str(dest)) == [STAGING_PREFIX + "x"]
    assert sorted(os.listdir(str(dest))) == sorted([RECEIPT_NAME, "uv", "uvx"])
    assert len(remove_install(str(dest))) == 3
    assert os.listdir(str(dest)) == []


def test_dir_lock_serialises(tmp_path):
    order = []

    def worker(tag):
        with DirLock(str(tmp_path)):
            order.append(tag + "-in")
            time.sleep(0.2)
            order.append(tag + "-out")

    threads = [threading.Thread(target=worker, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order[0].endswith("-in") and order[1] == order[0].replace("-in", "-out")
    assert os.listdir(str(tmp_path)) == []  # no lock file left behind


def test_dir_lock_times_out(tmp_path):
    with DirLock(str(tmp_path)):
        with pytest.raises(InstallError, match="held the lock"):
            with DirLock(str(tmp_path), timeout=0.3, poll=0.05):
                pass


def test_make_staging_dir_unwritable(tmp_path):
    if os.geteuid() == 0:
        target = "/proc/pyfleet-uv-not-writable"  # even root cannot create here
    else:
        target = str(tmp_path / "ro")
        os.mkdir(target, 0o555)
    with pytest.raises(InstallError, match="install_dir"):
        _install.make_staging_dir(target)


def test_make_archive_round_trip(tmp_path):
    """The fixture builder's archives look like uv's: one folder, uv and uvx."""
    path = archive(tmp_path)
    with tarfile.open(path) as tar:
        assert tar.getnames() == ["uv-%s" % T, "uv-%s/uv" % T, "uv-%s/uvx" % T]
