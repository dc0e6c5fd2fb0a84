# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift: an install that was damaged or changed behind the module's back is repaired.

The pinned no-op still asks nothing of the mirror when the install is healthy; it checks
both binaries with ``stat`` against the receipt, and reinstalls (changed, with the
reason) when they do not match. Runs the real module through ``ansible``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_uv_install_adversarial import (  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
    NEW,
    OLD,
    TM,
    T,
    env,
    fails,
    root,
    server,
    uv_install,
)


def install(server, env, bindir, version=NEW, output=False, **extra):
    args = {"version": version, "mirror_url": server.url + "/versioned/{version}/", "install_dir": str(bindir)}
    args.update(extra)
    result, text = uv_install(env, args)
    return (result, text) if output else result


def requests_during(server, action):
    server.stats.reset()
    result = action()
    return result, list(server.stats.paths)


def test_healthy_pinned_noop_asks_nothing(server, env, tmp_path):
    bindir = tmp_path / "bin"
    assert install(server, env, bindir)["changed"]
    result, paths = requests_during(server, lambda: install(server, env, bindir))
    assert result["changed"] is False and paths == []


def test_truncated_uvx_is_reinstalled(server, env, tmp_path):
    bindir = tmp_path / "bin"
    assert install(server, env, bindir)["changed"]
    (bindir / "uvx").write_bytes(b"")
    result, paths = requests_during(server, lambda: install(server, env, bindir))
    assert result["changed"] is True, result
    assert "uvx is empty" in result["msg"], result["msg"]
    assert os.path.getsize(str(bindir / "uvx")) > 0
    assert any(p.endswith(".tar.gz") for p in paths)
    receipt = json.loads((bindir / ".pyfleet-uv.json").read_text())
    assert receipt["binaries"]["uvx"]["size"] == os.path.getsize(str(bindir / "uvx"))
    # And the repaired install is a no-op again.
    result, paths = requests_during(server, lambda: install(server, env, bindir))
    assert result["changed"] is False and paths == []


def test_uvx_of_another_size_is_reinstalled(server, env, tmp_path):
    bindir = tmp_path / "bin"
    assert install(server, env, bindir)["changed"]
    with open(str(bindir / "uvx"), "ab") as handle:
        handle.write(b"\0" * 10)
    result = install(server, env, bindir)
    assert result["changed"] is True and "the receipt recorded" in result["msg"], result["msg"]


def test_unparsable_receipt_warns_and_is_rewritten(server, env, tmp_path):
    bindir = tmp_path / "bin"
    assert install(server, env, bindir)["changed"]
    (bindir / ".pyfleet-uv.json").write_text("{not json")
    result, output = install(server, env, bindir, output=True)
    assert result["changed"] is True, result
    assert "is not valid JSON" in result["msg"]
    assert "[WARNING]" in output and "is not valid JSON" in output and "it will be rewritten" in output
    receipt = json.loads((bindir / ".pyfleet-uv.json").read_text())
    assert receipt["version"] == NEW and receipt["schema"] == 2


def test_forced_musl_replaces_an_old_gnu_uv_without_receipt(server, env, tmp_path):
    """uv 0.5.11 names no target in --version; without a receipt the ELF interpreter tells gnu."""
    bindir = tmp_path / "bin"
    assert install(server, env, bindir, version=OLD)["target"] == T
    os.unlink(str(bindir / ".pyfleet-uv.json"))
    result = install(server, env, bindir, version=OLD, libc="musl")
    assert result["changed"] is True, result
    assert result["target"] == TM
    assert "installed target %s is not among" % T in result["msg"], result["msg"]
    out = subprocess.run([str(bindir / "uv"), "--version"], capture_output=True, text=True, check=True)
    assert OLD in out.stdout


def test_uv_placed_by_other_means_stays_a_noop(server, env, tmp_path):
    """No receipt, matching version: documented as a no-op, with no request."""
    bindir = tmp_path / "bin"
    assert install(server, env, bindir)["changed"]
    other = tmp_path / "other"
    other.mkdir()
    for name in ("uv", "uvx"):
        shutil.copy2(str(bindir / name), str(other / name))
    result, paths = requests_during(server, lambda: install(server, env, other))
    assert result["changed"] is False and paths == [], result
    assert not (other / ".pyfleet-uv.json").exists()


def test_relative_install_dir_is_refused(server, env, tmp_path):
    result = install(server, env, "relbin")
    fails(result, "install_dir must be an absolute path", "'relbin'")
