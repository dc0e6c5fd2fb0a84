# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

from ansible_collections.pyfleet.uv.plugins.modules import uv_facts


def test_facts_of_this_machine(run_module, tmp_path):
    code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path)})
    assert code == 0 and result["changed"] is False
    uv = result["ansible_facts"]["uv"]
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
    assert result["ansible_facts"]["uv"]["installed"] == {
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
    uv = result["ansible_facts"]["uv"]
    if os.uname().machine == "x86_64":
        assert uv["arch"] == "i686" and uv["arch_detected_by"] == "uname+elf:%s" % python
        assert uv["targets"] == ["i686-unknown-linux-gnu", "i686-unknown-linux-musl"]
    _code, result = run_module(uv_facts.main, {"install_dir": str(tmp_path), "arch": "x86_64"})
    uv = result["ansible_facts"]["uv"]
    assert uv["arch"] == "x86_64" and uv["arch_detected_by"] == "option"
