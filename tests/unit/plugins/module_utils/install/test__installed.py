# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.helpers import host_run

from ansible_collections.pyfleet.uv.plugins.module_utils.install._installed import (
    RECEIPT_NAME,
    find_uv,
    installed_state,
    parse_uv_version,
    read_receipt,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        # GitHub release builds before 0.10.12.
        ("uv 0.5.11 (c4d0caaee 2024-12-19)", ("uv", "0.5.11", None)),
        # Release builds from 0.10.12 name the target.
        ("uv 0.13.9 (0a1b2c3d4 2026-11-02 x86_64-unknown-linux-gnu)", ("uv", "0.13.9", "x86_64-unknown-linux-gnu")),
        # The PyPI wheels' binaries (recorded from uv 0.13.8 and 0.5.11 wheels).
        ("uv 0.13.8 (x86_64-unknown-linux-gnu)", ("uv", "0.13.8", "x86_64-unknown-linux-gnu")),
        ("uv 0.5.11", ("uv", "0.5.11", None)),
        ("uvx 0.13.8 (x86_64-unknown-linux-musl)", ("uvx", "0.13.8", "x86_64-unknown-linux-musl")),
        ("uv-tool-uvx 0.5.11", ("uv-tool-uvx", "0.5.11", None)),
        ("uv 0.14.0 (abc 2026-12-01 armv7-unknown-linux-gnueabihf)\n", ("uv", "0.14.0", "armv7-unknown-linux-gnueabihf")),
        ("warning: something\nuv 0.5.11 (c4d0caaee 2024-12-19)", ("uv", "0.5.11", None)),
    ],
)
def test_parse_uv_version(text, expected):
    parsed = parse_uv_version(text)
    assert (parsed["name"], parsed["version"], parsed["target"]) == expected


@pytest.mark.parametrize("text", ["", None, "ruff 0.5.11", "uv", "uv version unknown",
                                  "/lib64/libc.so.6: version `GLIBC_2.34' not found"])
def test_parse_uv_version_rejects(text):
    assert parse_uv_version(text) is None


def script(path, body):
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return str(path)


def test_installed_state_target_from_receipt(tmp_path):
    uv = script(tmp_path / "uv", 'echo "uv 0.5.11 (c4d0caaee 2024-12-19)"')
    (tmp_path / RECEIPT_NAME).write_text(json.dumps({"schema": 1, "version": "0.5.11", "target": "x86_64-unknown-linux-musl"}))
    assert installed_state(uv, host_run) == {"path": uv, "version": "0.5.11", "target": "x86_64-unknown-linux-musl"}


def test_installed_state_ignores_stale_receipt(tmp_path):
    uv = script(tmp_path / "uv", 'echo "uv 0.5.11"')
    (tmp_path / RECEIPT_NAME).write_text(json.dumps({"schema": 1, "version": "0.4.0", "target": "x"}))
    assert installed_state(uv, host_run)["target"] is None


@pytest.mark.parametrize("body", ['echo "not uv"', "exit 3", 'echo "uv 0.5.11"; exit 1'])
def test_installed_state_unusable_binary(tmp_path, body):
    assert installed_state(script(tmp_path / "uv", body), host_run) is None


def test_installed_state_missing(tmp_path):
    assert installed_state(str(tmp_path / "uv"), host_run) is None
    assert installed_state(None, host_run) is None


def test_read_receipt_bad(tmp_path):
    assert read_receipt(str(tmp_path)) is None
    (tmp_path / RECEIPT_NAME).write_text("{not json")
    assert read_receipt(str(tmp_path)) is None
    (tmp_path / RECEIPT_NAME).write_text(json.dumps({"schema": 99}))
    assert read_receipt(str(tmp_path)) is None


def test_find_uv(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    uv = script(second / "uv", "true")
    assert find_uv(path_env="%s:%s" % (first, second)) == uv
    assert find_uv(install_dir=str(first)) is None
    assert find_uv(install_dir=str(second)) == uv


# -- drift, receipts and the target of an old build ---------------------------------

from ansible_collections.pyfleet.uv.plugins.module_utils.install._installed import (  # noqa: E402
    binary_stats,
    check_drift,
    elf_target,
    load_receipt,
)


def healthy(tmp_path):
    for name in ("uv", "uvx"):
        path = tmp_path / name
        path.write_bytes(b"#!/bin/sh\necho %s\n" % name.encode())
        path.chmod(0o755)
    return {"binaries": binary_stats(str(tmp_path))}


def test_check_drift_healthy(tmp_path):
    assert check_drift(str(tmp_path), healthy(tmp_path)) is None
    assert check_drift(str(tmp_path), None) is None  # no receipt: existence and shape only


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda d: (d / "uvx").unlink(), "uvx is missing"),
        (lambda d: (d / "uvx").write_bytes(b""), "uvx is empty"),
        (lambda d: (d / "uv").chmod(0o644), "uv is not executable"),
        (lambda d: (d / "uvx").write_bytes(b"#!/bin/sh\necho a different uvx\n"), "the receipt recorded"),
        (lambda d: ((d / "uvx").unlink(), (d / "uvx").mkdir()), "uvx is not a regular file"),
    ],
    ids=["missing", "empty", "not-executable", "other-size", "directory"],
)
def test_check_drift_finds(tmp_path, damage, fragment):
    receipt = healthy(tmp_path)
    damage(tmp_path)
    assert fragment in check_drift(str(tmp_path), receipt)


def test_load_receipt_problems(tmp_path):
    assert load_receipt(str(tmp_path)) == (None, None)
    (tmp_path / RECEIPT_NAME).write_text("{not json")
    data, problem = load_receipt(str(tmp_path))
    assert data is None and "is not valid JSON" in problem
    (tmp_path / RECEIPT_NAME).write_text('{"schema": 99}')
    assert "schema 99" in load_receipt(str(tmp_path))[1]
    (tmp_path / RECEIPT_NAME).write_text('{"schema": 1, "version": "0.5.11"}')
    assert load_receipt(str(tmp_path)) == ({"schema": 1, "version": "0.5.11"}, None)


def test_elf_target_from_the_interpreter(tmp_path):
    # This machine's /bin/sh is dynamically linked against glibc (the suite runs on Debian).
    assert elf_target(os.path.realpath("/bin/sh"), os.uname().machine) == \
        "%s-unknown-linux-gnu" % os.uname().machine
    static = tmp_path / "static"
    # A minimal ELF64 header with no program headers: static, so the musl build.
    static.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x02\x00\x3e\x00" + b"\0" * 44)
    assert elf_target(str(static), "x86_64") == "x86_64-unknown-linux-musl"
    script = tmp_path / "script"
    script.write_bytes(b"#!/bin/sh\n")
    assert elf_target(str(script), "x86_64") is None
    assert elf_target(str(static), "sparc64") is None
