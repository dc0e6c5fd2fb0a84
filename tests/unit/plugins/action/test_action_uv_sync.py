# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The uv_sync action plugin without a host: what pack_project sends, and what it refuses before any host is touched.

The real controller-mode runs (ansible-playbook, a loopback index, the real uv) are in test_action_uv_sync_play.py.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import threading

import pytest

from ansible_collections.pyfleet.uv.plugins.action import uv_sync
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError


def project(tmp_path):
    top = tmp_path / "project"
    (top / "src" / "app").mkdir(parents=True)
    (top / "pyproject.toml").write_text("[project]\nname = 'app'\nversion = '1'\n")
    (top / "uv.lock").write_text("version = 1\n")
    (top / "src" / "app" / "__init__.py").write_text("")
    return top


def names(archive):
    with tarfile.open(archive) as tar:
        return sorted(m.name for m in tar.getmembers() if m.isfile())


def test_dotfiles_stay_on_the_controller_except_the_python_request(tmp_path):
    top = project(tmp_path)
    (top / ".env").write_text("DATABASE_PASSWORD=hunter2\n")
    (top / ".netrc").write_text("machine index login deploy password s3cr3t\n")
    (top / ".python-version").write_text("3.12\n")
    (top / "src" / "app" / ".secrets.toml").write_text("token = 'x'\n")
    (top / ".config").mkdir()
    (top / ".config" / "settings.toml").write_text("token = 'x'\n")
    archive = str(tmp_path / "p.tar.gz")
    count = uv_sync.pack_project(str(top), archive)
    assert names(archive) == [".python-version", "pyproject.toml", "src/app/__init__.py", "uv.lock"]
    assert count == 4


def test_a_link_to_a_file_outside_the_project_is_not_followed(tmp_path):
    top = project(tmp_path)
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("private key\n")
    os.symlink(str(secret), str(top / "src" / "app" / "data.txt"))
    os.symlink("__init__.py", str(top / "src" / "app" / "alias.py"))  # inside the project: sent as a file
    warned = []
    archive = str(tmp_path / "p.tar.gz")
    uv_sync.pack_project(str(top), archive, warned.append)
    assert "src/app/data.txt" not in names(archive) and "src/app/alias.py" in names(archive)
    with tarfile.open(archive) as tar:
        assert all(b"private key" not in tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert any("data.txt" in w and "outside the project" in w for w in warned), warned


def test_a_fifo_in_the_tree_is_skipped_not_waited_on(tmp_path):
    top = project(tmp_path)
    fifo = str(top / "src" / "app" / "control.fifo")
    os.mkfifo(fifo)
    warned, done = [], []
    archive = str(tmp_path / "p.tar.gz")
    worker = threading.Thread(target=lambda: done.append(uv_sync.pack_project(str(top), archive, warned.append)),
                              daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():  # release the blocked reader before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(5)
        pytest.fail("pack_project blocked on a FIFO")
    assert done == [3] and "src/app/control.fifo" not in names(archive)
    assert any("control.fifo" in w and "not a regular file" in w for w in warned), warned


class Recorder(uv_sync.ActionModule):
    """The action plugin without a connection: any call to the host fails the test."""

    def __init__(self, tmp_path):  # pylint: disable=super-init-not-called
        self.tmp_path = tmp_path
        self._warnings = []

    def _execute_module(self, *args, **kwargs):
        raise AssertionError("the host was called")

    def _transfer_file(self, *args, **kwargs):
        raise AssertionError("a file was pushed")

    def _find_needle(self, dirname, needle):
        return needle


def test_controller_mode_needs_project_src(tmp_path):
    action = Recorder(tmp_path)
    with pytest.raises(UvError) as failed:
        action._dispatch({}, {"project_dir": "/srv/app/src", "environment": "/srv/app/.venv",  # pylint: disable=protected-access
                              "download_on": "controller"}, "controller", {})
    assert "needs project_src" in failed.value.msg and "project_dir names a directory on the host" in failed.value.msg


def test_a_package_without_build_wheels_fails_before_the_host(tmp_path):
    top = project(tmp_path)
    (top / "uv.lock").write_text('version = 1\nrevision = 3\nrequires-python = ">=3.9"\n\n[[package]]\nname = "app"\n'
                                 'version = "1"\nsource = { editable = "." }\n')
    action = Recorder(tmp_path)
    with pytest.raises(UvError) as failed:
        action._dispatch({}, {"project_src": str(top), "environment": "/srv/app/.venv",  # pylint: disable=protected-access
                              "download_on": "controller"}, "controller", {})
    assert "give build_wheels" in failed.value.msg and "install_project=false" in failed.value.msg


@pytest.mark.parametrize("request_, file_text, expected", [
    ("3.12", None, "3.12"), ("3.12.7", None, "3.12.7"), ("cpython@3.11", None, "3.11"), ("CPython-3.10", None, "3.10"),
    (">=3.11", None, None), ("/usr/bin/python3", "3.12\n", None), (None, "3.12\n", "3.12"),
    (None, "# pinned\n3.11.4\n", "3.11.4"), (None, "pypy@3.10\n", None), (None, None, None),
], ids=repr)
def test_pinned_python(tmp_path, request_, file_text, expected):
    if file_text is not None:
        (tmp_path / ".python-version").write_text(file_text)
    assert uv_sync.pinned_python(request_, str(tmp_path)) == expected


def test_a_link_to_a_folder_is_named_not_dropped_silently(tmp_path):
    top = project(tmp_path)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data.txt").write_text("outside\n")
    os.symlink("app", str(top / "src" / "alias"))  # inside the project
    os.symlink(str(tmp_path / "shared"), str(top / "src" / "shared"))  # outside
    warned = []
    archive = str(tmp_path / "p.tar.gz")
    uv_sync.pack_project(str(top), archive, warned.append)
    assert names(archive) == ["pyproject.toml", "src/app/__init__.py", "uv.lock"]
    inside = [w for w in warned if w.startswith("src/alias in project_src")]
    outside = [w for w in warned if w.startswith("src/shared in project_src")]
    assert len(inside) == 1 and "a symbolic link to the folder src/app" in inside[0], warned
    assert "its files go under src/app only" in inside[0], inside
    assert len(outside) == 1 and "outside the project" in outside[0] and "was not sent" in outside[0], warned


def test_a_lock_that_is_not_utf8_fails_with_what_to_fix(tmp_path):
    top = project(tmp_path)
    (top / "uv.lock").write_bytes(b'version = 1\n# \xe9t\xe9\n')
    action = Recorder(tmp_path)
    with pytest.raises(UvError) as failed:
        action._dispatch({}, {"project_src": str(top), "environment": "/srv/app/.venv",  # pylint: disable=protected-access
                              "download_on": "controller"}, "controller", {})
    assert "uv.lock in project_src %s is not UTF-8 text" % top in failed.value.msg, failed.value.msg
    assert "run `uv lock`" in failed.value.msg and "no host was changed" in failed.value.msg


def test_the_scratch_of_a_killed_run_is_swept(tmp_path, monkeypatch):
    """A run killed on the controller leaves its ``uv-sync-*`` scratch folder in TMPDIR: the next run removes
    the folders of runs that are gone (no flock held, older than a minute), never a running one's."""
    import fcntl  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    old = time.time() - 3600
    for name in ("uv-sync-killed", "uv-sync-running", "uv-sync-young", "uv-other-old"):
        (scratch / name).mkdir()
        (scratch / name / "project.tar.gz").write_bytes(b"partial")
        if name != "uv-sync-young":
            os.utime(str(scratch / name), (old, old))
    held = os.open(str(scratch / "uv-sync-running"), os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(UvError):
            Recorder(tmp_path)._dispatch({}, {"project_dir": "/srv/app/src", "environment": "/srv/app/.venv",  # pylint: disable=protected-access
                                              "download_on": "controller"}, "controller", {})
    finally:
        os.close(held)
    assert sorted(os.listdir(str(scratch))) == ["uv-other-old", "uv-sync-running", "uv-sync-young"]
