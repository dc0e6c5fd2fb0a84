# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The uv_install action plugin's cheap version check agrees with sources.check_version_option."""

from __future__ import annotations

import pytest

from ansible_collections.pyfleet.uv.plugins.action import uv_install
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import check_version_option, is_specifier

VALUES = ["latest", "0.13.8", "0.5.11", "10.20.30", " 0.13.8 ", "latest ", "v0.13.8", "0.13", "0.13.8.1",
          ">=0.13,<0.14", "==0.13.8", "~=0.13.0", "0.13.8\n", "0.13.8rc1", "LATEST", "", "latest\n0.13.8", "0.１3.8"]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v) for v in VALUES])
def test_plain_versions_are_exactly_what_the_module_takes(value):
    """Values the plugin passes through untouched are those check_version_option returns as they are
    (``latest`` or X.Y.Z); every other value goes to check_version_option (a specifier set or a refusal)."""
    stripped = value.strip()
    plain = bool(uv_install._PLAIN_VERSION.match(stripped))  # pylint: disable=protected-access
    try:
        checked = check_version_option(value, allow_specifier=True)
    except UvError:
        assert not plain
        return
    assert checked == stripped
    assert plain is (not is_specifier(checked))


def test_the_action_plugin_does_not_import_version_options_for_a_plain_version():
    """version_options.py is imported inside run() only for a specifier or a bad value."""
    assert not hasattr(uv_install, "check_version_option")
    assert not hasattr(uv_install, "is_specifier")


SECRETS = ("s3cr3t-pw", "h3ader-tok", "us3rinfo-pw", "qu3ry-sig-value", "ch3cksum-pw")


class Recorder(uv_install.ActionModule):
    """The action plugin with the host call recorded instead of run (no connection needed)."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self.sent = []

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, **_kwargs):
        self.sent.append(dict(module_args))
        return {"failed": True, "msg": "recorded"}  # the plan step stops here


@pytest.mark.parametrize("extra", [{}, {"src": "/tmp/uv.tar.gz"}, {"state": "absent"}])
def test_controller_mode_sends_no_credentials_to_the_host(extra):
    """With download_on=controller a host only plans and installs from a pushed file: the source's
    credentials stay on the controller (the plan step used to carry them all, review of issue 33)."""
    args = dict({"version": "0.13.8", "download_on": "controller", "state": "present",
                 "mirror_url": "https://fleet:us3rinfo-pw@mirror.example/uv/{version}/?sig=qu3ry-sig-value",
                 "url_username": "fleet", "url_password": "s3cr3t-pw", "headers": {"X-Token": "h3ader-tok"},
                 "checksum": "sha256:https://u:ch3cksum-pw@sums.example/sha256.sum"}, **extra)
    action = Recorder()
    result = {}
    action._dispatch(result, dict(args), "controller", {})  # pylint: disable=protected-access
    assert len(action.sent) == 1
    sent = repr(action.sent[0])
    for secret in SECRETS:
        assert secret not in sent, sent
    assert action.sent[0]["mirror_url"] == "https://********@mirror.example/uv/{version}/?sig=********"
    assert action.sent[0]["checksum"] == "sha256:https://********@sums.example/sha256.sum"
    assert action.sent[0].get("plan_only") is (None if extra else True)
