# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_facts


def test_facts_of_this_machine(run_module, tmp_path):
    code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path)})
    assert code == 0 and result["changed"] is False
    uv = result["ansible_facts"]["ansible_uv"]
    assert set(uv) == {"arch", "arch_detected_by", "libc", "targets", "installed", "config_files", "tools"}
    assert [f["path"] for f in uv["config_files"] if f["scope"] == "system"][-1] == "/etc/uv/uv.toml"
    assert uv["arch"] == os.uname().machine and uv["arch_detected_by"] == "uname"
    assert uv["libc"]["family"] == "glibc" and uv["libc"]["detected_by"] == "confstr"
    assert uv["libc"]["version"] == os.confstr("CS_GNU_LIBC_VERSION").split()[1]
    assert uv["installed"] is None
    assert uv["targets"][-1].endswith("-musl")


def test_tools_installed_by_real_uv(run_module, tmp_path, monkeypatch):
    """A tool installed by the real uv 0.13.8 (through uv_tool) is reported from its receipt and environment,
    beside a tool whose receipt is broken and one whose requirement carries credentials."""
    import subprocess
    import sys

    import pytest

    from ansible_collections.pyfleet.uv.plugins.modules import uv_tool

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "module_utils"))
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "utils"))
    sys.path.insert(0, os.path.dirname(__file__))
    from real_uv import real_uv  # pylint: disable=import-outside-toplevel
    from test_uv_tool import SYSTEM_PYTHON, build_tool_wheel  # pylint: disable=import-outside-toplevel
    import venvindex  # pylint: disable=import-outside-toplevel

    uv = real_uv("0.13.8", str(tmp_path / "uvs"))
    if uv is None or not os.path.exists(SYSTEM_PYTHON):
        pytest.skip("needs the suite's uv mirror (uv 0.13.8) and /usr/bin/python3")
    tools, bin_dir = tmp_path / "tools", tmp_path / "bin"
    bin_dir.mkdir()
    wheels = venvindex.fetch(("six==1.17.0",)) + [build_tool_wheel(str(tmp_path), "1.0")]
    home = tmp_path / "home"
    home.mkdir()
    with venvindex.static_index(wheels) as (url, _counter):
        monkeypatch.setenv("HOME", str(home))
        code, made = run_module(uv_tool.main, {"name": "pyfleet-hello==1.0", "with": ["six"], "python": SYSTEM_PYTHON,
                                               "uv_path": uv, "index_url": url, "tool_dir": str(tools),
                                               "bin_dir": str(bin_dir), "python_install_dir": str(tmp_path / "py")})
    assert code == 0 and made["changed"], made["msg"]

    # A receipt that is not TOML, and one whose requirement is a URL with credentials.
    for name, receipt in (("broken", "[tool\nrequirements = ["),
                          ("private", '[tool]\nrequirements = [{ name = "private", url = "https://bot:s3cret@wheels.example/p.whl" }]\n')):
        (tools / name).mkdir()
        (tools / name / "uv-receipt.toml").write_text(receipt)
    (tools / ".lock").write_text("")

    code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path), "tool_dir": str(tools)})
    assert code == 0, result
    found = {t["name"]: t for t in result["ansible_facts"]["ansible_uv"]["tools"]}
    assert sorted(found) == ["broken", "private", "pyfleet-hello"]
    version = subprocess.run([SYSTEM_PYTHON, "-c", "import platform; print(platform.python_version())"],
                             stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    assert found["pyfleet-hello"] == {
        "name": "pyfleet-hello", "version": "1.0", "requested": "pyfleet-hello==1.0", "with": ["six"],
        "python": {"version": version, "path": os.path.realpath(SYSTEM_PYTHON)},
        "executables": [{"name": "pyfleet-hello", "path": str(bin_dir / "pyfleet-hello")}],
        "environment": str(tools / "pyfleet-hello"), "error": None}
    assert found["broken"]["error"].startswith("uv's receipt %s is broken (" % (tools / "broken" / "uv-receipt.toml"))
    assert "state=reinstalled" in found["broken"]["error"]
    assert found["broken"]["requested"] is None and found["broken"]["executables"] == []
    assert found["private"]["error"] is None and "s3cret" not in found["private"]["requested"]
    assert found["private"]["requested"].startswith("private @ https://")

    code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path), "tool_dir": str(tmp_path / "none")})
    assert code == 0 and result["ansible_facts"]["ansible_uv"]["tools"] == []


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


@pytest.mark.parametrize("text", ["tool = 1\n[tool.x]\n", "[" * 3000 + "\n",
                                  '[tool]\nrequirements = [{ name = "a", specifier = 5 }]\nentrypoints = 5\n'])
def test_a_receipt_unlike_uvs_is_one_tool_with_an_error(tmp_path, text):
    """Neither a traceback nor a failed task: the tool is reported with its error, the others as they are;
    uv_tool's backup (a dot name) is no tool."""
    from ansible_collections.pyfleet.uv.plugins.module_utils.environments import _tool_facts  # pylint: disable=import-outside-toplevel
    for name in ("bad", ".bad.pyfleet-backup"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "uv-receipt.toml").write_text(text)
    found = _tool_facts.gather_tools(str(tmp_path))
    assert [t["name"] for t in found] == ["bad"]
    assert found[0]["error"] and "reinstall the tool" in found[0]["error"], found
