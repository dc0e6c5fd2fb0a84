# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_install on the host: folder modes under a umask, OS errors of state=absent, who may write install_dir.

In-process runs of the real module; installs come from the real uv archives of the
mirror tree (``src``), so that no network is involved.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_install

MIRROR = os.environ.get("PYFLEET_UV_MIRROR", "")
VERSION = "0.13.8"
T = "x86_64-unknown-linux-gnu"
ARCHIVE = os.path.join(MIRROR, "versioned", VERSION, "uv-%s.tar.gz" % T)
NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="chattr and chown need root")
NEEDS_MIRROR = pytest.mark.skipif(not os.path.isfile(ARCHIVE), reason="needs the mirror tree (PYFLEET_UV_MIRROR)")


def src_args(dest):
    with open(ARCHIVE, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    return {"src": ARCHIVE, "checksum": "sha256:" + digest, "install_dir": str(dest)}


@contextlib.contextmanager
def umask(value):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@NEEDS_MIRROR
def test_install_dir_is_0755_under_umask_027(run_module, tmp_path):
    dest = tmp_path / "opt" / "uv" / "bin"
    with umask(0o027):
        code, result = run_module(uv_install.main, src_args(dest))
    assert code == 0 and result["changed"], result
    for folder in (tmp_path / "opt", tmp_path / "opt" / "uv", dest):
        assert folder.stat().st_mode & 0o7777 == 0o755, folder
    for name in ("uv", "uvx"):
        assert (dest / name).stat().st_mode & 0o777 == 0o755


@NEEDS_ROOT
@NEEDS_MIRROR
def test_absent_on_an_immutable_file_fails_with_a_message(run_module, tmp_path):
    dest = tmp_path / "bin"
    code, _result = run_module(uv_install.main, src_args(dest))
    assert code == 0
    subprocess.run(["chattr", "+i", str(dest / "uvx")], check=True)
    try:
        code, result = run_module(uv_install.main, {"state": "absent", "install_dir": str(dest)})
    finally:
        subprocess.run(["chattr", "-i", str(dest / "uvx")], check=True)
    assert code == 1 and result["failed"], result
    assert "cannot remove %s" % (dest / "uvx") in result["msg"] and "immutable" in result["msg"], result["msg"]


def planted(directory, marker):
    """A ``uv`` (and ``uvx``) that leaves ``marker`` behind when it runs, as planted code would."""
    for name in ("uv", "uvx"):
        path = directory / name
        path.write_text("#!/bin/sh\ntouch '%s'\necho '%s 0.13.8 (%s)'\n" % (marker, name, T))
        path.chmod(0o755)


@NEEDS_ROOT
@pytest.mark.parametrize("how", ["world-writable", "foreign-owner", "foreign-parent", "foreign-binary",
                                 "world-writable-binary", "sticky-install-dir", "linked-into-foreign-folder",
                                 "binary-linked-into-foreign-folder"])
@pytest.mark.parametrize("state", ["present", "absent"])
def test_untrusted_install_dir_is_refused_before_anything_runs(run_module, tmp_path, how, state):
    parent = tmp_path / "parent"
    dest = parent / "bin"
    dest.mkdir(parents=True)
    marker = tmp_path / "ran"
    planted(dest, marker)
    if how == "world-writable":
        dest.chmod(0o777)
    elif how == "sticky-install-dir":
        dest.chmod(0o1777)
    elif how == "foreign-owner":
        os.chown(str(dest), 65534, 65534)
    elif how == "foreign-parent":
        os.chown(str(parent), 65534, 65534)
    elif how == "foreign-binary":
        os.chown(str(dest / "uv"), 65534, 65534)
    elif how == "world-writable-binary":
        (dest / "uvx").chmod(0o777)
    elif how == "linked-into-foreign-folder":
        # install_dir is a link into a folder another user owns: the link must not hide it.
        foreign = tmp_path / "home" / "alice"
        foreign.mkdir(parents=True)
        os.rename(str(dest), str(foreign / "bin"))
        os.chown(str(foreign), 65534, 65534)
        dest.symlink_to(foreign / "bin")
    elif how == "binary-linked-into-foreign-folder":
        foreign = tmp_path / "r"
        foreign.mkdir()
        os.rename(str(dest / "uv"), str(foreign / "uv"))
        os.chown(str(foreign), 65534, 65534)
        (dest / "uv").symlink_to(foreign / "uv")
    for check_mode in (True, False):
        code, result = run_module(uv_install.main, {"version": VERSION, "state": state, "install_dir": str(dest),
                                                    "mirror_url": "http://127.0.0.1:9/{version}/"},
                                  check_mode=check_mode)
        assert code == 1 and result["failed"], result
        assert "refusing to run or install uv in %s" % dest in result["msg"], result["msg"]
        assert "chmod go-w" in result["msg"] and "another install_dir" in result["msg"]
        assert not marker.exists(), "the planted uv was run"
    assert sorted(os.listdir(str(dest))) == ["uv", "uvx"]


@NEEDS_ROOT
def test_group_writable_install_dir_is_a_warning(run_module, tmp_path):
    dest = tmp_path / "bin"
    dest.mkdir()
    planted(dest, tmp_path / "ran")
    os.chown(str(dest), 0, 65534)
    dest.chmod(0o775)
    code, result = run_module(uv_install.main, {"version": VERSION, "install_dir": str(dest),
                                                "mirror_url": "http://127.0.0.1:9/{version}/"})
    assert code == 0 and result["changed"] is False, result
    # ansible-core 2.19 reports warnings as structured summaries: their text is what is compared.
    warnings = str(result.get("warnings"))
    assert "%s is writable by group 65534" % dest in warnings and "chmod g-w %s" % dest in warnings, result


@NEEDS_ROOT
def test_sticky_world_writable_parent_is_fine(run_module, tmp_path):
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o1777)
    dest = parent / "bin"
    dest.mkdir()
    planted(dest, tmp_path / "ran")
    code, result = run_module(uv_install.main, {"version": VERSION, "install_dir": str(dest),
                                                "mirror_url": "http://127.0.0.1:9/{version}/"})
    assert code == 0 and result["changed"] is False, result
    assert str(parent) not in str(result.get("warnings")), result
