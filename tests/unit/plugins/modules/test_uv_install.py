# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_install's decide step and its input checks, in-process (installs are in the integration tests)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_install

# A closed loopback port: any request would fail the test loudly.
NO_MIRROR = "http://127.0.0.1:9/uv/{version}/"
T = "x86_64-unknown-linux-gnu"


def fake_uv(directory, version, target=T, receipt=True):
    for name in ("uv", "uvx"):
        path = directory / name
        path.write_text("#!/bin/sh\necho '%s %s (%s)'\n" % (name, version, target))
        path.chmod(0o755)
    if receipt:
        (directory / ".pyfleet-uv.json").write_text(json.dumps({
            "schema": 1, "version": version, "target": target, "sha256": "a" * 64,
            "artifact": "uv-%s.tar.gz" % target, "url": "http://mirror/uv-%s.tar.gz" % target}))


def test_pinned_noop_needs_no_mirror(run_module, tmp_path):
    fake_uv(tmp_path, "0.13.8")
    code, result = run_module(uv_install.main, {"version": "0.13.8", "mirror_url": NO_MIRROR,
                                                "install_dir": str(tmp_path)})
    assert code == 0, result
    assert result["changed"] is False
    assert result["version"] == result["previous_version"] == "0.13.8"
    assert result["target"] == T and result["sha256"] == "a" * 64
    assert result["binaries"] == [str(tmp_path / "uv"), str(tmp_path / "uvx")]
    assert [c["decision"] for c in result["candidates"]] == ["not tried", "not tried"]


def test_check_mode_plans_without_writing(run_module, tmp_path):
    dest = tmp_path / "new" / "bin"
    code, result = run_module(uv_install.main, {"version": "0.13.8", "mirror_url": NO_MIRROR,
                                                "install_dir": str(dest)}, check_mode=True, diff=True)
    assert code == 0 and result["changed"] is True
    assert result["diff"] == {"before": "absent\n", "after": "version: 0.13.8\ntarget: %s\n" % T}
    assert "would install" in result["msg"]
    assert not (tmp_path / "new").exists()


def test_check_mode_upgrade_shows_both_versions(run_module, tmp_path):
    fake_uv(tmp_path, "0.5.11")
    _code, result = run_module(uv_install.main, {"version": "0.13.8", "mirror_url": NO_MIRROR,
                                                 "install_dir": str(tmp_path)}, check_mode=True, diff=True)
    assert result["changed"] and result["previous_version"] == "0.5.11"
    assert "0.5.11" in result["diff"]["before"] and "0.13.8" in result["diff"]["after"]


def test_libc_override_replaces_other_family(run_module, tmp_path):
    fake_uv(tmp_path, "0.13.8")
    _code, result = run_module(uv_install.main, {"version": "0.13.8", "libc": "musl", "mirror_url": NO_MIRROR,
                                                 "install_dir": str(tmp_path)}, check_mode=True)
    assert result["changed"] and "is not among" in result["msg"]


def test_latest_with_explicit_checksum_is_decided_locally(run_module, tmp_path):
    fake_uv(tmp_path, "0.13.8")
    _code, result = run_module(uv_install.main, {"version": "latest", "checksum": "sha256:" + "a" * 64,
                                                 "mirror_url": NO_MIRROR, "install_dir": str(tmp_path)})
    assert result["changed"] is False and "latest" in result["msg"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"version": "v0.13.8"}, "without the leading 'v'"),
        ({"version": "0.13"}, "X.Y.Z"),
        ({"version": "0.13.8", "mirror_url": "mirror.example.com/uv/"}, "not an http:// or https:// URL"),
        ({"version": "0.13.8", "mirror_url": "http://m/{tag}/"}, "unknown placeholder"),
        ({"version": "0.13.8", "checksum": "md5:abc"}, "sha256:<64 hex digits>"),
        ({"version": "0.13.8", "arch": "sparc64"}, "unsupported machine 'sparc64'"),
        ({"version": "0.13.8", "timeout": 0}, "timeout must be"),
    ],
)
def test_bad_input(run_module, tmp_path, args, fragment):
    args = dict(args, install_dir=str(tmp_path))
    code, result = run_module(uv_install.main, args)
    assert code == 1 and result["failed"]
    assert fragment in result["msg"]
    assert os.listdir(str(tmp_path)) == []


def test_install_dir_is_a_file(run_module, tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    code, result = run_module(uv_install.main, {"version": "0.13.8", "install_dir": str(path)})
    assert code == 1 and "is not a directory" in result["msg"]


def test_absent_twice(run_module, tmp_path):
    fake_uv(tmp_path, "0.13.8")
    _code, first = run_module(uv_install.main, {"state": "absent", "install_dir": str(tmp_path)}, diff=True)
    _code, second = run_module(uv_install.main, {"state": "absent", "install_dir": str(tmp_path)})
    assert first["changed"] and first["previous_version"] == "0.13.8" and first["diff"]["after"] == "absent\n"
    assert not second["changed"]
    assert os.listdir(str(tmp_path)) == []


def test_unreachable_mirror_fails_clearly(run_module, tmp_path):
    code, result = run_module(uv_install.main, {"version": "0.13.8", "mirror_url": NO_MIRROR,
                                                "install_dir": str(tmp_path), "download_retries": 0})
    assert code == 1
    assert "127.0.0.1:9" in result["msg"] and "connection failed" in result["msg"]
    assert os.listdir(str(tmp_path)) == []


def test_password_never_shown(run_module, tmp_path):
    code, result = run_module(uv_install.main, {
        "version": "0.13.8", "mirror_url": "http://bob:hunter2secret@127.0.0.1:9/uv/{version}/",
        "url_password": "s3cr3t-pw", "headers": {"Authorization": "Bearer tok3n-value"},
        "install_dir": str(tmp_path), "download_retries": 0})
    text = json.dumps(result)
    assert code == 1
    for secret in ("hunter2secret", "s3cr3t-pw", "tok3n-value"):
        assert secret not in text
