# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config-fleet stage: uv_config across the fleet of the fleet stage, uv asking only the index."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time

from .common import ROOT, TRACKS, UV_NEW, ansible_env, find_python, log, mirror_server, run, venv
from .fleet import debian_distutils, prepare_fleet, remote_connection, sshd_logs_on_failure
import uvindex  # on sys.path through .common
import uvindex_front  # on sys.path through .common
import uvindex_wheels  # on sys.path through .common


# What the uv_config fleet proof installs from the loopback index (a small pure-Python wheel).
CONFIG_PACKAGE = "packaging==24.2"


def stage_config_fleet(track: str, ctx: dict) -> None:
    """uv_config across the fleet of stage_fleet (hacking/fleet_config.yml): uv asks only the index.

    Every host (this machine and the three Debian 11 roots) installs uv from the loopback
    mirror and gets its uv.toml from uv_config, with [[index]] at a real pypiserver that
    also publishes a real ``packaging`` wheel (uvindex_wheels.fetch_package). An unprivileged user
    then runs ``uv venv`` and ``uv pip install packaging`` with every proxy variable at a
    tripwire proxy (tests/utils/tripwire.py) and NO_PROXY covering the index's loopback
    address only; the stage fails unless the tripwire saw 0 connections (the playbook
    asserts the index served each host, and a control run with ``--no-config`` trips a
    second tripwire). In the roots the file is their /etc/uv/uv.toml (amd64 also runs the
    read-only /etc/uv case, a read-only bind mount); on this machine it is a file under
    the scratch folder that uv reads through XDG_CONFIG_DIRS, so /etc/uv here is never
    touched. A platform host that cannot run here is left out and the stage ends SKIPPED.
    """
    import tripwire  # pylint: disable=import-outside-toplevel  # tests/utils/tripwire.py

    fleet = prepare_fleet(ctx, "debootstrap, mount, chroot, setpriv")
    started = time.time()
    package = uvindex_wheels.fetch_package(CONFIG_PACKAGE)
    log("the %s wheel ready in %.1f s" % (CONFIG_PACKAGE, time.time() - started))
    path = venv(track)
    with fleet.running("the config fleet"):
        with tempfile.TemporaryDirectory(prefix="uv-cfgfleet-") as scratch, contextlib.ExitStack() as stack:
            os.chmod(scratch, 0o755)  # the local host's test folder is used by an unprivileged user too
            trip = tripwire.Tripwire(log=os.path.join(scratch, "tripwire.jsonl")).start()
            stack.callback(trip.stop)
            control = tripwire.Tripwire(log=os.path.join(scratch, "control.jsonl")).start()
            stack.callback(control.stop)
            index = stack.enter_context(uvindex.pypiserver_index(extra=(package,)))
            for host_root in fleet.all_roots:
                stack.enter_context(debian_distutils(host_root))
            remotes = fleet.ssh_hosts(stack, scratch)
            local_root = os.path.join(scratch, "localhost")
            hosts = {"localhost": {
                "ansible_connection": "local",
                "ansible_python_interpreter": find_python(TRACKS[track]["managed"][-1]),
                "cfg_root": local_root, "cfg_path": os.path.join(local_root, "xdg", "uv", "uv.toml"),
                "cfg_xdg": os.path.join(local_root, "xdg"),
            }}
            for host, remote in remotes.items():
                hosts[host] = dict(remote_connection(remote), cfg_root="/tmp/pyfleet-uv-config", cfg_path="/etc/uv/uv.toml",
                                   cfg_xdg="", cfg_readonly=host == "bullseye")
            group_vars = {"uv_mirror": stack.enter_context(mirror_server(ctx["mirror"])), "uv_new": UV_NEW,
                          "cfg_index": index.url, "cfg_index_stats": index.stats, "cfg_package": CONFIG_PACKAGE,
                          "tripwire_url": trip.url, "control_tripwire_url": control.url,
                          "cfg_secret": "pw-fleet-%d" % os.getpid()}
            inventory_file = os.path.join(scratch, "inventory.json")
            with open(inventory_file, "w") as handle:
                json.dump({"all": {"vars": group_vars, "hosts": hosts}}, handle, indent=1)
            env = ansible_env(ctx["tree"], {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(scratch, "cp")})
            with sshd_logs_on_failure(remotes):
                out = run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory_file, "--forks", "5",
                           os.path.join(ROOT, "hacking", "fleet_config.yml")], env=env,
                          capture_output=True, text=True, check=False)
                print(out.stdout + out.stderr, flush=True)
                out.check_returncode()
            if group_vars["cfg_secret"] in out.stdout + out.stderr:
                raise RuntimeError("the test password appears in the playbook's output")
            seen = trip.connections()
            if seen:
                raise RuntimeError("the tripwire proxy saw %d connection(s): %s" % (len(seen), seen[:5]))
            if not control.connections():
                raise RuntimeError("the control run without the file did not reach the control tripwire")
            log("config fleet: %d hosts, tripwire 0 connections, control tripwire %d, index %d requests"
                % (len(hosts), len(control.connections()), uvindex_front.stats(index.stats)["requests"]))
