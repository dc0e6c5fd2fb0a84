# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in-process with arguments, on every supported ansible-core."""

from __future__ import annotations

import contextlib
import json
import os
import sys

import pytest

try:  # ansible-core 2.19+
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.16 to 2.18: the old way
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old


@pytest.fixture
def run_module(capsys, monkeypatch):
    """``run_module(main, args, check_mode=False) -> (exit code, result dict)``."""
    # A test that imported controller code (an action plugin: ansible.plugins.action) has set
    # ansible-core 2.19+'s process-wide is_controller flag, after which a module's warnings go to
    # the controller's display instead of its result. Modules run as on a host here, whatever ran
    # before in this process.
    try:
        from ansible.module_utils import _internal
    except ImportError:  # ansible-core before 2.19
        _internal = None
    if _internal is not None and hasattr(_internal, "is_controller"):
        monkeypatch.setattr(_internal, "is_controller", False)

    def run(main, args, check_mode=False, diff=False):
        args = dict(args)
        args["_ansible_check_mode"] = check_mode
        args["_ansible_diff"] = diff
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                main()
        out = capsys.readouterr().out
        return exc.value.code, json.loads(out)
    return run


# -- the real uv and a loopback index (test_uv_venv*.py, test_uv_sync.py, test_uv_tool*.py), the module uv_venv --------------------------

sys.path.insert(0, os.path.dirname(__file__))
from uv_venv_support import PYTHON, real_uv, venvindex  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.pyfleet.uv.plugins.modules import uv_venv  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="module")
def wheels():
    return venvindex.fetch()


@pytest.fixture
def uv(tmp_path):
    path = real_uv("0.13.8", str(tmp_path / "uvs"))
    if path is None:
        pytest.skip("uv 0.13.8 is not in the mirror")
    return path


@pytest.fixture
def index(wheels):
    with venvindex.static_index(wheels) as (url, counter):
        yield url, counter


@pytest.fixture
def venv(run_module, tmp_path, uv, index):
    url, _counter = index
    path = str(tmp_path / "envs" / "app")

    def call(check_mode=False, diff=False, **args):
        base = {"path": path, "python": PYTHON, "uv_path": uv, "index_url": url,
                "python_install_dir": str(tmp_path / "pythons")}
        base.update(args)
        return run_module(uv_venv.main, base, check_mode=check_mode, diff=diff)
    call.path = path
    call.uv = uv
    return call


@pytest.fixture
def warned(monkeypatch):
    """Every AnsibleModule.warn() of the test (ansible-core 2.19+ may send them past the result)."""
    from ansible.module_utils.basic import AnsibleModule  # pylint: disable=import-outside-toplevel
    texts = []
    real = AnsibleModule.warn

    def warn(self, warning, *args, **kwargs):
        texts.append(warning)
        return real(self, warning, *args, **kwargs)
    monkeypatch.setattr(AnsibleModule, "warn", warn)
    return texts
