# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import threading
import time

import pytest

from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.helpers import host_run

from ansible_collections.pyfleet.uv.plugins.module_utils import _install
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import InstallError
from ansible_collections.pyfleet.uv.plugins.module_utils._install import (
    STAGING_PREFIX,
    DirLock,
    install_staged,
    remove_install,
    remove_stale_staging,
    verify_staged,
    write_receipt,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._installed import RECEIPT_NAME, read_receipt


T = "x86_64-unknown-linux-gnu"
GOOD = {"uv": b"#!/bin/sh\necho 'uv 0.13.8 (%s)'\n" % T.encode(),
        "uvx": b"#!/bin/sh\necho 'uvx 0.13.8 (%s)'\n" % T.encode()}


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
    moved = install_staged(staged, str(dest))
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
