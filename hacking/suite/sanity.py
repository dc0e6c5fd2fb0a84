# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own checks: ansible-test sanity, the unit tests, and Python 3.6 validity of target-side code."""

from __future__ import annotations

import os
import shutil

from .common import ROOT, TRACKS, collection_dir, find_python, run, seed_get_pip, venv


def stage_sanity(track: str, ctx: dict) -> None:
    path = venv(track)
    seed_get_pip(path)
    python = TRACKS[track]["python"]
    run([os.path.join(path, "bin", "ansible-test"), "sanity", "--color", "no", "--python", python,
         "--requirements"], cwd=collection_dir(ctx["tree"]))
    ignores = [name for name in os.listdir(os.path.join(ROOT, "tests")) if name == "sanity"]
    if ignores:
        raise RuntimeError("tests/sanity exists: ignore files are not allowed in this project")


def stage_units(track: str, ctx: dict) -> None:
    path = venv(track)
    coll = collection_dir(ctx["tree"])
    env = dict(os.environ, PYTHONPATH=ctx["tree"], PYFLEET_UV_MIRROR=ctx["mirror"])
    run([os.path.join(path, "bin", "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/unit"], cwd=coll, env=env)


def stage_py36_static(track: str, ctx: dict) -> None:
    """Target-side code must be valid Python 3.6: vermin, then a real 3.6 compile."""
    path = venv("newest")
    coll = collection_dir(ctx["tree"])
    targets = [os.path.join(coll, "plugins", "modules"), os.path.join(coll, "plugins", "module_utils")]
    run([os.path.join(path, "bin", "vermin"), "-t=3.6-", "--violations", "--no-tips", "--eval-annotations"] + targets)
    py36 = find_python("3.6")
    run([py36, "-m", "compileall", "-q", "-f"] + targets)
    for target in targets:  # compileall leaves __pycache__ behind in the copy only
        for dirpath, dirs, _files in os.walk(target):
            for name in dirs:
                if name == "__pycache__":
                    shutil.rmtree(os.path.join(dirpath, name), ignore_errors=True)
