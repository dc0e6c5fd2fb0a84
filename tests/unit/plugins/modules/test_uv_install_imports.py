# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host imports on each path of uv_install (issue 20: the ad hoc call's fixed cost).

The host compiles every module_util it imports from the AnsiballZ zip on every call (no
bytecode cache there), so the paths that download or unpack nothing must not import the
unpacking code (tarfile, zipfile, threads) or the HTTP stack. Each case runs the module's
main() in a fresh interpreter and lists what it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import json, sys
args = json.loads(sys.argv[1])
try:  # ansible-core 2.19+
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # 2.16 to 2.18
    import contextlib
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(values):
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": values}).encode()
        yield
from ansible_collections.pyfleet.uv.plugins.modules import uv_install
with patch_module_args(args):
    try:
        uv_install.main()
    except SystemExit:
        pass
sys.stderr.write("\nIMPORTED " + json.dumps(sorted(sys.modules)) + "\n")
"""

MU = "ansible_collections.pyfleet.uv.plugins.module_utils."
# Only the install path needs these.
HEAVY = (MU + "install._archive", MU + "install._archive_stream", MU + "install._fetch", "tarfile", "zipfile", "gzip",
         "ansible.module_utils.urls")


def imported(args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], env=env, capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    names = json.loads(out.stderr.rsplit("IMPORTED ", 1)[1])
    return result, set(names)


def fake_uv(directory, version="0.13.8"):
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("uv", "uvx"):
        path = directory / name
        path.write_text("#!/bin/sh\necho 'uv %s (0000000 2025-01-01)'\n" % version)
        path.chmod(0o755)


@pytest.mark.parametrize("case", ["absent-nothing-there", "absent-check-mode", "pinned-noop", "pinned-check-mode"])
def test_paths_without_a_download_import_no_unpacking_or_http(tmp_path, case):
    install_dir = tmp_path / "bin"
    args = {"install_dir": str(install_dir), "mirror_url": "http://127.0.0.1:9/{version}/"}
    if case.startswith("absent"):
        args["state"] = "absent"
        if case == "absent-check-mode":
            fake_uv(install_dir)
            args["_ansible_check_mode"] = True
    else:
        fake_uv(install_dir)
        args["version"] = "0.13.8" if case == "pinned-noop" else "0.13.9"
        args["_ansible_check_mode"] = case == "pinned-check-mode"
    result, names = imported(args)
    assert not result.get("failed"), result
    assert result["changed"] is (case in ("absent-check-mode", "pinned-check-mode"))
    assert not names.intersection(HEAVY), sorted(names.intersection(HEAVY))


def test_a_src_install_imports_the_unpacking_code(tmp_path):
    """The lazy import is really taken where it is needed (a src file is read by _archive)."""
    src = tmp_path / "uv-x86_64-unknown-linux-gnu.tar.gz"
    src.write_bytes(b"not an archive")
    args = {"install_dir": str(tmp_path / "bin"), "src": str(src), "allow_missing_checksum": True}
    result, names = imported(args)
    assert result.get("failed"), result
    assert MU + "install._archive" in names


# Only an index_url, or a wheel, needs these.
INDEX_OR_WHEEL = (MU + "index_pages", MU + "wheel_tags", "html.parser")


@pytest.mark.parametrize("case", ["absent", "pinned-noop", "mirror-install"])
def test_a_release_mirror_path_imports_no_index_or_wheel_code(tmp_path, case):
    """The install from a release mirror reaches the mirror (nothing listens on port 9, so it fails
    there) without the package index or wheel code; absent and the no-op do not either."""
    install_dir = tmp_path / "bin"
    args = {"install_dir": str(install_dir), "mirror_url": "http://127.0.0.1:9/{version}/", "version": "0.13.8",
            "download_retries": 0}
    if case == "absent":
        args["state"] = "absent"
    elif case == "pinned-noop":
        fake_uv(install_dir)
    result, names = imported(args)
    assert bool(result.get("failed")) is (case == "mirror-install"), result
    if case == "mirror-install":
        assert "127.0.0.1:9" in result["msg"]
        assert MU + "install._fetch" in names  # the request was really made
    assert not names.intersection(INDEX_OR_WHEEL), sorted(names.intersection(INDEX_OR_WHEEL))


def test_an_index_install_imports_the_index_code(tmp_path):
    """The lazy import is really taken where it is needed (the index's project page is asked for)."""
    args = {"install_dir": str(tmp_path / "bin"), "index_url": "http://127.0.0.1:9/simple/", "version": "0.13.8",
            "download_retries": 0}
    result, names = imported(args)
    assert result.get("failed"), result
    assert MU + "index_pages" in names
