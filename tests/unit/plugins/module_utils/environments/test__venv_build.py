# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a recreate would delete (``foreign_entries``) and what a mount point is, on real trees in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv_build import foreign_entries, is_mount_point


def environment(top, lib="python3.11"):
    """A tree shaped as ``uv venv`` leaves it, with one installed package (a wheel's RECORD with a console script)."""
    site = os.path.join(top, "lib", lib, "site-packages")
    os.makedirs(os.path.join(site, "six-1.16.0.dist-info"))
    os.makedirs(os.path.join(top, "bin"))
    with open(os.path.join(top, "pyvenv.cfg"), "w") as handle:
        handle.write("home = /usr/bin\n")
    for name in ("python", "python3", "activate", "activate.fish", "activate_this.py", "deactivate.bat", "pydoc.bat"):
        with open(os.path.join(top, "bin", name), "w") as handle:
            handle.write("x\n")
    with open(os.path.join(top, "bin", "sixtool"), "w") as handle:
        handle.write("#!/bin/sh\n")
    with open(os.path.join(site, "six-1.16.0.dist-info", "RECORD"), "w") as handle:
        handle.write("six.py,,\n../../../bin/sixtool,,\nsix-1.16.0.dist-info/RECORD,,\n")
    return top


def test_an_environment_and_what_its_packages_list_are_not_foreign(tmp_path):
    assert foreign_entries(environment(str(tmp_path / "env"))) == []


def test_the_operators_files_below_bin_etc_share_are_named(tmp_path):
    top = environment(str(tmp_path / "env"))
    for rel in ("bin/deploy-hook", "etc/myapp/app.conf", "share/myapp/state.db"):
        os.makedirs(os.path.dirname(os.path.join(top, rel)), exist_ok=True)
        with open(os.path.join(top, rel), "w") as handle:
            handle.write("mine\n")
    assert foreign_entries(top) == ["bin/deploy-hook", "etc/myapp/app.conf", "share/myapp/state.db"]


@pytest.mark.parametrize("lib", ["pypy3.10", "python3.13t"])
def test_records_of_other_interpreters_are_read(tmp_path, lib):
    """PyPy keeps site-packages in lib/pypy3.X (re-check of the sixth review: its pip scripts counted as foreign)."""
    assert foreign_entries(environment(str(tmp_path / "env"), lib)) == []


def test_a_path_with_glob_characters(tmp_path):
    assert foreign_entries(environment(str(tmp_path / "env-[d]v*?"))) == []


def test_setuptools_installs_and_an_old_virtualenv_are_the_environments_own(tmp_path):
    """``setup.py install``/``develop`` list their files in installed-files.txt or nowhere (their scripts carry
    setuptools' header); virtualenv before 20 links include/python3.X to the system's headers."""
    top = environment(str(tmp_path / "env"))
    site = os.path.join(top, "lib", "python3.11", "site-packages")
    os.makedirs(os.path.join(site, "legacy-1.0-py3.11.egg-info"))
    with open(os.path.join(site, "legacy-1.0-py3.11.egg-info", "installed-files.txt"), "w") as handle:
        handle.write("../legacy/__init__.py\n../../../../bin/legacy-tool\n")
    with open(os.path.join(top, "bin", "legacy-tool"), "w") as handle:
        handle.write("#!/usr/bin/python3\n")
    with open(os.path.join(top, "bin", "devtool"), "w") as handle:
        handle.write("#!/usr/bin/python3\n# EASY-INSTALL-DEV-SCRIPT: 'dev==0.1','devtool'\n__requires__ = 'dev==0.1'\n")
    os.makedirs(os.path.join(top, "include"))
    os.symlink("/usr/include/python3.11", os.path.join(top, "include", "python3.11"))
    assert foreign_entries(top) == []


@pytest.mark.skipif(os.geteuid() != 0 or not sys.platform.startswith("linux"), reason="a bind mount needs root")
def test_a_bind_mount_of_a_folder_of_the_same_filesystem_is_a_mount_point(tmp_path):
    """``os.path.ismount`` compares devices, which a bind mount shares with its parent: mountinfo names it."""
    source, point = tmp_path / "src", tmp_path / "mnt point"
    source.mkdir()
    point.mkdir()
    code = ("import sys; sys.path[:0] = %r; from ansible_collections.pyfleet.uv.plugins.module_utils.environments."
            "_venv_build import is_mount_point as m; print(m(%r), m(%r))" % (sys.path, str(point), str(source)))
    script = 'mount --bind "$1" "$2" && exec "$3" -c "$4"'
    out = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", str(source), str(point),
                          sys.executable, code], capture_output=True, text=True, check=False)
    if out.returncode and "unshare" in out.stderr:
        pytest.skip("no mount namespace here: %s" % out.stderr.strip())
    assert out.stdout.split() == ["True", "False"], out.stderr
    assert not is_mount_point(str(point))
