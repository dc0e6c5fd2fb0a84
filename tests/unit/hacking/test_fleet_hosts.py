# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet stages' inventory: only the host under qemu-user gets ansible_pipelining."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "hacking"))

from suite import fleet  # noqa: E402  pylint: disable=wrong-import-position

REMOTE = {"host": "127.0.0.3", "port": 2222, "key": "/tmp/id_ed25519", "python": "/usr/bin/python3",
          "sshd_log": "/tmp/sshd.log"}


def test_an_emulated_host_gets_pipelining():
    expect = fleet.fleet_expectations("arm64", "2.31")
    found = fleet.remote_host(dict(REMOTE, emulated=True), "http://127.0.0.1:1", expect)
    assert found["ansible_pipelining"] is True
    assert fleet.remote_connection(dict(REMOTE, emulated=True))["ansible_pipelining"] is True


def test_a_native_host_keeps_ansibles_default():
    for remote in (REMOTE, dict(REMOTE, emulated=False)):
        found = fleet.remote_host(remote, "http://127.0.0.1:1", fleet.fleet_expectations("i386", "2.31"))
        assert "ansible_pipelining" not in found
        assert "ansible_pipelining" not in fleet.remote_connection(remote)


def test_only_the_qemu_architectures_are_marked_emulated():
    emulated = {arch for arch, facts in fleet.bullseye.ARCHES.items() if facts["binfmt"]}
    assert emulated == {"arm64"}
    assert set(fleet.PLATFORM_HOSTS.values()) >= emulated
