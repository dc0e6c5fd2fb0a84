# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_mirror_check in real ansible-playbook runs: the uv group's module_defaults, serial plays.

Two inventory hosts on the local connection, a loopback mirror of the real archives.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.action import uv_mirror_check as action

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "utils"))
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position

MIRROR = os.environ.get("PYFLEET_UV_MIRROR", "")
VERSION = uvmirror.DEFAULT_VERSIONS[-1]
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(action.__file__), "..", "..", "..", "..", ".."))

pytestmark = [
    pytest.mark.skipif(not os.path.isdir(os.path.join(MIRROR, "versioned", VERSION)), reason="needs the mirror tree"),
    pytest.mark.skipif(not os.path.exists(PLAYBOOK) or not importlib.util.find_spec("requests"),
                       reason="needs ansible-playbook and requests beside this Python"),
]


def test_ignored_options_are_the_install_modules_own():
    from ansible_collections.pyfleet.uv.plugins.module_utils.install._tool_install import install_argument_spec
    from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import mirror_check_argument_spec
    assert sorted(action.IGNORED_GROUP_OPTIONS) == sorted(set(install_argument_spec()) - set(mirror_check_argument_spec()))


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mc-mirror")
    shutil.copytree(os.path.join(MIRROR, "versioned", VERSION), str(root / "versioned" / VERSION),
                    copy_function=os.link)
    server = uvmirror.MirrorServer(str(root)).start()
    yield server.url + "/versioned/{version}/"
    server.stop()


def play(tmp_path, text):
    inventory = {"all": {"hosts": dict((name, {"ansible_connection": "local",
                                               "ansible_python_interpreter": sys.executable})
                                       for name in ("mc1", "mc2"))}}
    (tmp_path / "inventory.yml").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(text)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "remote-tmp"),
               ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_DEPRECATION_WARNINGS="False",
               XDG_CACHE_HOME=str(tmp_path / "xdg"))
    return subprocess.run([PLAYBOOK, "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600,
                          check=False)


def test_group_module_defaults_of_the_install_modules_are_ignored(tmp_path, mirror):
    run = play(tmp_path, """
- hosts: all
  gather_facts: false
  module_defaults:
    group/pyfleet.uv.uv:
      version: "%s"
      mirror_url: "%s"
      install_dir: "%s/bin"
      download_on: host
      state: present
      libc: auto
      force: false
  tasks:
    - pyfleet.uv.uv_facts:
    - pyfleet.uv.uv_mirror_check:
      run_once: true
      register: check
    - ansible.builtin.assert:
        that:
          - check is not failed
          - check.version == "%s"
          - check.hosts | length == 2
""" % (VERSION, mirror, tmp_path, VERSION))
    assert run.returncode == 0, run.stdout[-4000:]


def test_serial_play_checks_each_batch(tmp_path, mirror):
    run = play(tmp_path, """
- hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - pyfleet.uv.uv_facts:
    - pyfleet.uv.uv_mirror_check:
        version: "%s"
        mirror_url: "%s"
      run_once: true
      register: check
    - ansible.builtin.assert:
        that:
          - check is not failed
          - check.hosts.keys() | list == [inventory_hostname]
""" % (VERSION, mirror))
    assert run.returncode == 0, run.stdout[-4000:]
    assert run.stdout.count("TASK [pyfleet.uv.uv_mirror_check]") == 2
