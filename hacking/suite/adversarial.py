# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The adversarial stage: faults, hostile mirrors and bad input (tests/adversarial)."""

from __future__ import annotations

import os
import tempfile

from .common import ansible_env, collection_dir, run, venv


def stage_adversarial(track: str, ctx: dict) -> None:
    """Faults, hostile mirrors and bad input against real ansible runs (tests/adversarial).

    The cases run on two pytest-xdist workers: each case has its own tmp_path, install_dir,
    loopback servers on free ports and tmpfs mounts, and each worker its own session
    fixtures (mirror tree, servers). ``--basetemp`` is short on purpose: ansible-core's
    local RPC server binds a Unix socket under TMPDIR (a case's tmp_path), and the longer
    default path of an xdist worker passes the 108-byte limit of a socket path.
    """
    path = venv(track)
    env = ansible_env(ctx["tree"], {
        "PATH": os.path.join(path, "bin") + os.pathsep + os.environ.get("PATH", ""),
        "PYFLEET_UV_MIRROR": ctx["mirror"],
    })
    env.pop("ANSIBLE_ROLES_PATH")
    with tempfile.TemporaryDirectory(prefix="uv-adv-", ignore_cleanup_errors=True) as scratch:
        run([os.path.join(path, "bin", "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
             "-n", "2", "--basetemp", os.path.join(scratch, "t"), "--durations=10",
             os.path.join(collection_dir(ctx["tree"]), "tests", "adversarial")], env=env, cwd=ctx["tree"])
