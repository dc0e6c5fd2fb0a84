# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_install's no-op, decided in one place, against a real loopback mirror and the real uv binaries.

A pinned version that the source does not serve as that version must never end in
``changed: false``: a flat mirror (no version in its path) that still serves the
installed release, asked for another one, fails naming the version it served.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_install

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "utils"))
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position

MIRROR = os.environ.get("PYFLEET_UV_MIRROR", "")
OLD, NEW = uvmirror.DEFAULT_VERSIONS
T = "x86_64-unknown-linux-gnu"

pytestmark = pytest.mark.skipif(not os.path.isdir(os.path.join(MIRROR, "versioned", OLD)),
                                reason="needs the mirror tree (PYFLEET_UV_MIRROR, tests/utils/uvmirror.py)")


@pytest.fixture
def flat_old(tmp_path):
    """A flat mirror (an S3-like folder) that still serves ``OLD``, on 127.0.0.1."""
    root = tmp_path / "mirror"
    shutil.copytree(os.path.join(MIRROR, "versioned", OLD), str(root / "flat"), copy_function=os.link)
    server = uvmirror.MirrorServer(str(root)).start()
    yield server.url + "/flat/"
    server.stop()


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_pinned_version_the_flat_mirror_does_not_serve_fails(run_module, tmp_path, flat_old):
    dest = tmp_path / "bin"
    code, first = run_module(uv_install.main, {"version": OLD, "mirror_url": flat_old, "install_dir": str(dest)})
    assert code == 0 and first["changed"] and first["version"] == OLD, first
    before = sha256(str(dest / "uv"))
    args = {"version": NEW, "mirror_url": flat_old, "install_dir": str(dest)}
    _code, planned = run_module(uv_install.main, args, check_mode=True)
    assert planned["changed"] is True and planned["version"] == NEW
    code, result = run_module(uv_install.main, args)
    assert code == 1 and result.get("failed"), result
    assert result["changed"] is False
    assert OLD in result["msg"] and NEW in result["msg"] and "flat" in result["msg"], result["msg"]
    assert sha256(str(dest / "uv")) == before
    assert sorted(os.listdir(str(dest))) == [".pyfleet-uv.json", "uv", "uvx"]


def test_first_install_of_a_pinned_version_the_mirror_does_not_serve_fails(run_module, tmp_path, flat_old):
    dest = tmp_path / "bin"
    code, result = run_module(uv_install.main, {"version": NEW, "mirror_url": flat_old, "install_dir": str(dest)})
    assert code == 1 and result["changed"] is False, result
    assert "serves uv %s at" % OLD in result["msg"] and "not the pinned %s" % NEW in result["msg"], result["msg"]
    # Failed at once: the musl build (the same wrong release) was not downloaded too.
    assert [c["target"] for c in result["candidates"] if "served" in c["reason"]] == [T], result["candidates"]
    assert os.listdir(str(dest)) == []


def src_archive(version, target=T):
    path = os.path.join(MIRROR, "versioned", version, "uv-%s.tar.gz" % target)
    return path, sha256(path)


@pytest.mark.parametrize("version", ["latest", OLD])
@pytest.mark.parametrize("with_checksum", [True, False], ids=["checksum", "allow_missing"])
def test_src_noop_check_mode_agrees(run_module, tmp_path, version, with_checksum):
    dest = tmp_path / "bin"
    src, digest = src_archive(OLD)
    args = {"src": src, "install_dir": str(dest), "version": version}
    args.update({"checksum": "sha256:" + digest} if with_checksum else {"allow_missing_checksum": True})
    code, first = run_module(uv_install.main, args)
    assert code == 0 and first["changed"] and first["version"] == OLD, first
    _code, planned = run_module(uv_install.main, args, check_mode=True)
    code, again = run_module(uv_install.main, args)
    assert code == 0 and again["changed"] is False and "from this file is installed" in again["msg"], again
    assert planned["changed"] is False and planned["msg"] == again["msg"], planned


def test_src_of_another_version_than_pinned_fails_in_check_mode_too(run_module, tmp_path):
    dest = tmp_path / "bin"
    src, digest = src_archive(OLD)
    args = {"src": src, "install_dir": str(dest), "checksum": "sha256:" + digest}
    code, first = run_module(uv_install.main, args)
    assert code == 0 and first["changed"], first
    args["version"] = NEW
    code_check, planned = run_module(uv_install.main, args, check_mode=True)
    code, result = run_module(uv_install.main, args)
    assert code == code_check == 1, (planned, result)
    assert result["msg"] == planned["msg"]
    assert "holds uv %s" % OLD in result["msg"] and "not the pinned %s" % NEW in result["msg"], result["msg"]


def test_fresh_src_of_another_version_fails(run_module, tmp_path):
    dest = tmp_path / "bin"
    src, digest = src_archive(OLD)
    code, result = run_module(uv_install.main, {"src": src, "install_dir": str(dest), "version": NEW,
                                                "checksum": "sha256:" + digest})
    assert code == 1 and "holds uv %s, not the pinned %s" % (OLD, NEW) in result["msg"], result
    assert os.listdir(str(dest)) == []


def test_controller_download_of_another_version_fails(tmp_path, flat_old):
    """download_on=controller through a real ansible-playbook: the pushed file holds the wrong release."""
    import json
    import subprocess
    import sys

    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if not os.path.exists(playbook):
        pytest.skip("needs ansible-playbook beside this Python")
    collections = os.path.abspath(os.path.join(os.path.dirname(uv_install.__file__), "..", "..", "..", "..", ".."))
    dest = tmp_path / "bin"
    (tmp_path / "inventory.yml").write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (tmp_path / "play.yml").write_text("""
- hosts: all
  gather_facts: false
  module_defaults:
    group/pyfleet.uv.uv: {mirror_url: "%s", install_dir: "%s", download_on: controller,
                          controller_cache_dir: "%s/cache"}
  tasks:
    - pyfleet.uv.uv_install: {version: "%s"}
    - pyfleet.uv.uv_install: {version: "%s"}
      register: wrong
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - wrong is failed and wrong is not changed
          - "'downloaded uv %s' in wrong.msg and 'not the pinned %s' in wrong.msg"
""" % (flat_old, dest, tmp_path, OLD, NEW, OLD, NEW))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "remote-tmp"))
    run = subprocess.run([playbook, "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600,
                         check=False)
    assert run.returncode == 0, run.stdout[-4000:]
    assert sorted(os.listdir(str(dest))) == [".pyfleet-uv.json", "uv", "uvx"]
