# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_config in-process, with the real uv 0.13.8 reading the staged file."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_config
from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.real_uv import needs_mirror, real_uv

tomllib = pytest.importorskip("tomllib")
pytestmark = needs_mirror

SECRET = "hunter2-Zq9"
CORP = {"name": "corp", "url": "http://127.0.0.1:9/simple", "default": True}
SETTINGS = {"python-downloads": "manual", "python-install-mirror": "http://127.0.0.1:9/python", "offline": False}


@pytest.fixture(scope="module")
def uv(tmp_path_factory):
    path = real_uv("0.13.8", str(tmp_path_factory.mktemp("uv")))
    if not path:
        pytest.fail("the mirror holds no uv 0.13.8 for this machine")
    return path


@pytest.fixture
def conf(tmp_path, uv, run_module):
    path = tmp_path / "etc" / "uv" / "uv.toml"

    def run(check_mode=False, diff=False, **args):
        args = dict({"path": str(path), "uv_path": uv}, **args)
        return run_module(uv_config.main, args, check_mode=check_mode, diff=diff)
    run.path = path
    return run


WARNED: list = []


@pytest.fixture(autouse=True)
def record_warnings(monkeypatch):
    """Every AnsibleModule.warn() of the test, whatever other tests did to ansible's global warning list."""
    WARNED.clear()
    real = uv_config.AnsibleModule.warn

    def warn(self, warning, *args, **kwargs):
        WARNED.append(warning)
        return real(self, warning, *args, **kwargs)
    monkeypatch.setattr(uv_config.AnsibleModule, "warn", warn)


def warnings(_result):
    """The warning texts the module gave (recorded by ``record_warnings``)."""
    return list(WARNED)


def listing(directory):
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else None


def test_check_real_idempotent(conf):
    code, result = conf(check_mode=True, diff=True, settings=SETTINGS, indexes=[CORP])
    assert code == 0 and result["changed"] is True and "would write" in result["msg"]
    assert not conf.path.parent.exists()
    assert result["diff"]["before"] == "" and 'python-downloads = "manual"' in result["diff"]["after"]

    code, result = conf(settings=SETTINGS, indexes=[CORP])
    assert code == 0 and result["changed"] is True, result
    text = conf.path.read_text()
    assert text.startswith("# Managed by pyfleet.uv.uv_config")
    assert tomllib.loads(text) == dict(SETTINGS, index=[CORP])
    assert stat.S_IMODE(conf.path.stat().st_mode) == 0o644
    assert result["settings"] == dict(SETTINGS, index=[CORP])
    assert result["validated_by"]["version"] == "0.13.8"
    assert listing(conf.path.parent) == ["uv.toml"]  # no staged file left

    code, result = conf(check_mode=True, settings=SETTINGS, indexes=[CORP])
    assert result["changed"] is False
    code, result = conf(settings=dict(reversed(list(SETTINGS.items()))), indexes=[CORP])
    assert result["changed"] is False and "up to date" in result["msg"]
    assert conf.path.read_text() == text  # byte-identical


def test_mode_drift_is_a_change(conf):
    conf(settings=SETTINGS)
    conf.path.chmod(0o600)
    _code, result = conf(settings=SETTINGS)
    assert result["changed"] is True and stat.S_IMODE(conf.path.stat().st_mode) == 0o644


def test_hand_edit_is_overwritten_with_diff_and_backup(conf):
    conf(settings=SETTINGS)
    conf.path.write_text(conf.path.read_text() + "offline = true\n")
    _code, result = conf(diff=True, backup=True, settings=SETTINGS)
    assert result["changed"] and "offline = true" in result["diff"]["before"].split("[")[0][-40:]
    assert open(result["backup_file"]).read().endswith("offline = true\n")
    assert "offline = true" not in conf.path.read_text()


@pytest.mark.parametrize("args, fragment", [
    ({"settings": {"python-install-mirrors": "x"}},
     "unknown uv setting 'python-install-mirrors'; did you mean 'python-install-mirror'?"),
    ({"settings": {"concurrent-downloads": "4"}}, "'concurrent-downloads' must be an integer"),
    ({"settings": {"python-downloads": "sometimes"}}, "unknown variant `sometimes`"),
    ({"settings": {"required-version": ">=99"}}, "Required uv version `>=99` does not match"),
    ({"indexes": [{"name": "corp", "url": "http://u:%s@127.0.0.1:9/simple" % SECRET}]},
     "would be written to a file other users can read (mode 0644)"),
], ids=["unknown-key", "wrong-type", "uv-rejects-value", "uv-rejects-required-version", "password-0644"])
def test_refusals_change_nothing(conf, args, fragment):
    conf(settings=SETTINGS)
    before = conf.path.read_bytes()
    code, result = conf(**args)
    assert code == 1 and fragment in " ".join(result["msg"].split()), result["msg"]
    assert conf.path.read_bytes() == before
    assert listing(conf.path.parent) == ["uv.toml"]
    assert SECRET not in json.dumps(result)


def test_uv_rejection_quotes_uv_with_the_real_path(conf):
    code, result = conf(settings={"python-downloads": "sometimes"})
    assert code == 1
    assert "uv 0.13.8 at" in result["msg"] and "rejects the configuration" in result["msg"]
    assert "nothing was changed" in result["msg"] and str(conf.path) in result["msg"]
    assert not conf.path.exists()


def test_uv_warnings_become_task_warnings(conf):
    _code, result = conf(settings={"native-tls": True})
    assert any("`native-tls` setting is deprecated" in w and "system-certs" in w for w in warnings(result))


@pytest.mark.parametrize("mode", ["0600", "0640", "u=rw,g=r,o="])
def test_password_with_private_mode_is_written_and_masked(conf, mode):
    url = "http://bob:%s@127.0.0.1:9/simple" % SECRET
    code, result = conf(diff=True, mode=mode, indexes=[{"name": "corp", "url": url}])
    assert code == 0 and result["changed"], result
    assert SECRET in conf.path.read_text()
    assert stat.S_IMODE(conf.path.stat().st_mode) in (0o600, 0o640)
    out = json.dumps(result)
    assert SECRET not in out
    assert result["settings"]["index"][0]["url"] == "http://bob:********@127.0.0.1:9/simple"
    assert "bob:********@" in result["diff"]["after"]
    assert any("UV_INDEX_CORP_USERNAME" in w for w in warnings(result))


def test_password_file_never_world_readable_when_replacing(conf, monkeypatch):
    """A 0644 file is replaced by a 0600 one holding a password: the new bytes never sit at 0644."""
    conf(settings=SETTINGS)
    seen = []
    real = uv_config.AnsibleModule.atomic_move

    def spy(self, src, dest, *args, **kwargs):
        real(self, src, dest, *args, **kwargs)
        seen.append(stat.S_IMODE(os.stat(dest).st_mode))
    monkeypatch.setattr(uv_config.AnsibleModule, "atomic_move", spy)
    conf(mode="0600", indexes=[{"name": "corp", "url": "http://bob:%s@127.0.0.1:9/simple" % SECRET}])
    assert seen == [0o600]


def test_new_password_file_never_world_readable(conf, monkeypatch):
    seen = []
    real = uv_config.AnsibleModule.atomic_move

    def spy(self, src, dest, *args, **kwargs):
        real(self, src, dest, *args, **kwargs)
        seen.append(stat.S_IMODE(os.stat(dest).st_mode))
    monkeypatch.setattr(uv_config.AnsibleModule, "atomic_move", spy)
    conf(mode="0640", indexes=[{"name": "corp", "url": "http://bob:%s@127.0.0.1:9/simple" % SECRET}])
    assert seen == [0o640]


def test_absent(conf):
    conf(settings=SETTINGS)
    _code, result = conf(check_mode=True, diff=True, state="absent")
    assert result["changed"] and conf.path.exists() and result["diff"]["after"] == ""
    _code, result = conf(state="absent")
    assert result["changed"] and not conf.path.exists() and conf.path.parent.exists()
    _code, result = conf(state="absent")
    assert result["changed"] is False and "is absent" in result["msg"]


def test_without_uv_the_file_is_written_with_a_warning(tmp_path, run_module, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("ansible_collections.pyfleet.uv.plugins.module_utils._config_file.DEFAULT_INSTALL_DIR",
                        str(tmp_path / "empty"))
    path = tmp_path / "uv.toml"
    code, result = run_module(uv_config.main, {"path": str(path), "settings": SETTINGS})
    assert code == 0 and result["changed"] and path.exists()
    assert result["validated_by"] is None
    assert any("not read by uv" in w for w in warnings(result))


def test_read_only_directory_fails_cleanly(conf, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into a 0555 directory; the integration target uses a read-only bind mount")
    conf.path.parent.mkdir(parents=True)
    conf.path.parent.chmod(0o555)
    try:
        code, result = conf(settings=SETTINGS)
    finally:
        conf.path.parent.chmod(0o755)
    assert code == 1 and "cannot create a file in" in result["msg"] and "nothing was changed" in result["msg"]
