# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift: an install that was damaged or changed behind the module's back is repaired.

The pinned no-op still asks nothing of the mirror when the install is healthy; it checks
the binaries with ``stat`` against the receipt, and reinstalls (changed, with the
reason) when they do not match. Runs the real module through ``ansible``, for each tool
(uv, ruff, ty: the ``tool`` fixture).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_uv_install_adversarial import (  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
    TM,
    T,
    env,
    fails,
    root,
    server,
    tool,
)
from test_uv_install_adversarial import install as run_install  # noqa: E402  pylint: disable=wrong-import-position


def install(tool, server, env, bindir, version=None, output=False, **extra):
    args = {"version": version or tool.new, "mirror_url": server.url + "/" + tool.versioned() + "/",
            "install_dir": str(bindir)}
    args.update(extra)
    result, text = run_install(tool, env, args)
    return (result, text) if output else result


def requests_during(server, action):
    server.stats.reset()
    result = action()
    return result, list(server.stats.paths)


def test_healthy_pinned_noop_asks_nothing(tool, server, env, tmp_path):
    bindir = tmp_path / "bin"
    assert install(tool, server, env, bindir)["changed"]
    result, paths = requests_during(server, lambda: install(tool, server, env, bindir))
    assert result["changed"] is False and paths == []


def test_truncated_uvx_is_reinstalled(tool, server, env, tmp_path):
    """uv's uvx emptied (uv still runs: the receipt's sizes tell); ruff's or ty's only binary emptied
    (it no longer runs: not installed)."""
    bindir = tmp_path / "bin"
    assert install(tool, server, env, bindir)["changed"]
    last = tool.binaries[-1]
    (bindir / last).write_bytes(b"")
    result, paths = requests_during(server, lambda: install(tool, server, env, bindir))
    assert result["changed"] is True, result
    if len(tool.binaries) > 1:
        assert "%s is empty" % last in result["msg"], result["msg"]
    assert os.path.getsize(str(bindir / last)) > 0
    assert any(p.endswith(".tar.gz") for p in paths)
    receipt = json.loads((bindir / tool.row.receipt).read_text())
    assert receipt["binaries"][last]["size"] == os.path.getsize(str(bindir / last))
    # And the repaired install is a no-op again.
    result, paths = requests_during(server, lambda: install(tool, server, env, bindir))
    assert result["changed"] is False and paths == []


def test_uvx_of_another_size_is_reinstalled(tool, server, env, tmp_path):
    bindir = tmp_path / "bin"
    assert install(tool, server, env, bindir)["changed"]
    with open(str(bindir / tool.binaries[-1]), "ab") as handle:
        handle.write(b"\0" * 10)
    result = install(tool, server, env, bindir)
    assert result["changed"] is True and "the receipt recorded" in result["msg"], result["msg"]


def test_unparsable_receipt_warns_and_is_rewritten(tool, server, env, tmp_path):
    bindir = tmp_path / "bin"
    assert install(tool, server, env, bindir)["changed"]
    (bindir / tool.row.receipt).write_text("{not json")
    result, output = install(tool, server, env, bindir, output=True)
    assert result["changed"] is True, result
    assert "is not valid JSON" in result["msg"]
    assert "[WARNING]" in output and "is not valid JSON" in output and "it will be rewritten" in output
    receipt = json.loads((bindir / tool.row.receipt).read_text())
    assert receipt["version"] == tool.new and receipt["schema"] == 2


def test_forced_musl_replaces_an_old_gnu_uv_without_receipt(tool, server, env, tmp_path):
    """uv 0.5.11, ruff and ty name no target in --version; without a receipt the ELF interpreter tells gnu."""
    bindir = tmp_path / "bin"
    assert install(tool, server, env, bindir, version=tool.old)["target"] == T
    os.unlink(str(bindir / tool.row.receipt))
    result = install(tool, server, env, bindir, version=tool.old, libc="musl")
    assert result["changed"] is True, result
    assert result["target"] == TM
    assert "installed target %s is not among" % T in result["msg"], result["msg"]
    out = subprocess.run([str(bindir / tool.name), "--version"], capture_output=True, text=True, check=True)
    assert tool.old in out.stdout


def test_uv_placed_by_other_means_stays_a_noop(tool, server, env, tmp_path):
    """No receipt, matching version: documented as a no-op, with no request."""
    bindir = tmp_path / "bin"
    assert install(tool, server, env, bindir)["changed"]
    other = tmp_path / "other"
    other.mkdir()
    for name in tool.binaries:
        shutil.copy2(str(bindir / name), str(other / name))
    result, paths = requests_during(server, lambda: install(tool, server, env, other))
    assert result["changed"] is False and paths == [], result
    assert not (other / tool.row.receipt).exists()


def test_relative_install_dir_is_refused(tool, server, env, tmp_path):
    result = install(tool, server, env, "relbin")
    fails(result, "install_dir must be an absolute path", "'relbin'")
