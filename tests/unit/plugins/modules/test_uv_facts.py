# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

from ansible_collections.pyfleet.uv.plugins.modules import uv_facts


def test_facts_of_this_machine(run_module, tmp_path):
    code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path)})
    assert code == 0 and result["changed"] is False
    uv = result["ansible_facts"]["ansible_uv"]
    assert set(uv) == {"arch", "arch_detected_by", "libc", "targets", "installed", "config_files"}
    assert [f["path"] for f in uv["config_files"] if f["scope"] == "system"][-1] == "/etc/uv/uv.toml"
    assert uv["arch"] == os.uname().machine and uv["arch_detected_by"] == "uname"
    assert uv["libc"]["family"] == "glibc" and uv["libc"]["detected_by"] == "confstr"
    assert uv["libc"]["version"] == os.confstr("CS_GNU_LIBC_VERSION").split()[1]
    assert uv["installed"] is None
    assert uv["targets"][-1].endswith("-musl")


def test_installed_uv_is_reported(run_module, tmp_path):
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\necho 'uv 0.13.9 (0a1b2c3d4 2026-11-02 x86_64-unknown-linux-gnu)'\n")
    uv.chmod(0o755)
    _code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path)})
    assert result["ansible_facts"]["ansible_uv"]["installed"] == {
        "path": str(uv), "version": "0.13.9", "target": "x86_64-unknown-linux-gnu"}


def test_unsupported_arch(run_module):
    code, result = run_module(uv_facts.main, {"arch": "mips64"})
    assert code == 1 and result["failed"]
    assert "unsupported machine 'mips64'" in result["msg"] and "x86_64" in result["msg"]


def test_32bit_userland_on_64bit_kernel(run_module, monkeypatch, tmp_path):
    """An i386 Debian on an x86_64 kernel: uname says x86_64, the Python is ELF32 EM_386."""
    python = tmp_path / "python3.9"
    python.write_bytes(bytes.fromhex("7f454c4601010100000000000000000002000300") + b"\0" * 44)
    monkeypatch.setattr("sys.executable", str(python))
    _code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path)})
    uv = result["ansible_facts"]["ansible_uv"]
    if os.uname().machine == "x86_64":
        assert uv["arch"] == "i686" and uv["arch_detected_by"] == "uname+elf:%s" % python
        assert uv["targets"] == ["i686-unknown-linux-gnu", "i686-unknown-linux-musl"]
    _code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path), "arch": "x86_64"})
    uv = result["ansible_facts"]["ansible_uv"]
    assert uv["arch"] == "x86_64" and uv["arch_detected_by"] == "option"


def test_playbook_keeps_inventory_variables_named_like_the_tools(tmp_path):
    """A real ansible-playbook run: inventory variables ``uv``, ``ruff`` and ``ty`` survive uv_facts,
    whose facts are under ``ansible_facts.uv`` (and the top-level ``ansible_uv``)."""
    import json
    import shutil
    import subprocess
    import sys

    # The ansible-playbook of the ansible-core under test (the venv of this Python) first.
    playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if not os.path.exists(playbook_bin):
        playbook_bin = shutil.which("ansible-playbook") or playbook_bin
    if not os.path.exists(playbook_bin):
        import pytest
        pytest.skip("ansible-playbook is not installed here")
    collections = os.path.abspath(os.path.join(os.path.dirname(uv_facts.__file__), "..", "..", "..", "..", ".."))
    (tmp_path / "inventory.yml").write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "uv": "mine", "ruff": {"line_length": 120}, "ty": ["checks"]}}}}))
    (tmp_path / "play.yml").write_text("""
- hosts: all
  gather_facts: false
  tasks:
    - pyfleet.uv.uv_facts:
        install_dir: %s
    - ansible.builtin.assert:
        that:
          - uv == 'mine'
          - ruff.line_length == 120
          - ty == ['checks']
          - ansible_facts.uv.targets | length > 0
          - ansible_facts.ruff.targets | length > 0
          - ansible_facts.ty.targets | length > 0
          - ansible_uv.arch == ansible_facts.uv.arch
""" % tmp_path)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "remote-tmp"),
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_DEPRECATION_WARNINGS="False")
    run = subprocess.run([playbook_bin, "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
