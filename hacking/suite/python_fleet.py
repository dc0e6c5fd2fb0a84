# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The python-fleet stage: uv_python, then uv_venv, across the fleet of the fleet stage."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time

from .common import ROOT, TRACKS, UV_NEW, ansible_env, find_python, log, mirror_server, run, venv
from .fleet import PLATFORM_HOSTS, debian_distutils, prepare_fleet, remote_connection, sshd_logs_on_failure
import uvindex  # on sys.path through .common
import uvmirror  # on sys.path through .common (its TOOLS: ruff's versions)


def python_fleet_hosts(manifest: dict, pbs_url: str) -> dict:
    """Per host group, the uv_python variables of hacking/fleet_python.yml (from a pbs.py manifest).

    ``bookworm`` (this machine) has two patches of one series: the first request is the
    older one, ``state: latest`` then upgrades to the newer; ``bullseye`` has one patch per
    architecture, ``{arch: vars}``.
    """
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import pbs_archive  # pylint: disable=import-outside-toplevel  # tests/utils/pbs_archive.py

    def path(entry):
        return "/" + pbs.quote_path(entry["path"])

    local = sorted((a for a in manifest["archives"] if a["host"] == "bookworm"),
                   key=lambda a: tuple(int(p) for p in a["version"].split(".")))
    if len(local) < 2 or local[0]["series"] != local[-1]["series"]:
        raise RuntimeError("pbs.py found no two patch releases of one series on this machine: %s"
                           % [a["key"] for a in local])
    old, new = local[0], local[-1]
    found = {"bookworm": {
        "py_json": pbs_url + "/bookworm.json", "py_series": old["series"], "py_first": old["version"],
        "py_first_key": old["key"], "py_first_path": path(old), "py_latest_key": new["key"],
        "py_latest_path": path(new), "py_final_path": path(new)}}
    for entry in manifest["archives"]:
        if entry["host"] == "bullseye":
            found[entry["arch"]] = {
                "py_json": pbs_url + "/bullseye.json", "py_series": entry["series"], "py_first": entry["series"],
                "py_first_key": pbs_archive.installed_key(entry), "py_first_path": path(entry), "py_latest_key": None,
                "py_latest_path": None, "py_final_path": path(entry)}
    return found


def python_fleet_venv_index(stack, groups: dict) -> tuple:
    """The uv_venv proof's package sets and index: ``({group: host variables}, uvindex.Index)``.

    One set per host group of python_fleet_hosts, for its managed Python's series and its
    architecture (the ``bookworm`` group's is this machine's): tests/utils/venvindex.py's
    ``FLEET_*`` projects, each compiled one only where a wheel exists for that Python and
    architecture, fetched once into the wheel cache. A pypiserver index (behind uvindex's
    counting front) serves them all; it lives as long as ``stack``.
    """
    import venvindex  # pylint: disable=import-outside-toplevel  # tests/utils/venvindex.py

    targets = {name: (group["py_series"], os.uname().machine if name == "bookworm" else name)
               for name, group in groups.items()}
    wheels, sets = venvindex.fetch_fleet(targets.values())
    # uv_tool's proof (hacking/fleet_tool_cli.yml): pylint pinned, then its upgrade, with the dependencies
    # the fleet set lacks (it has tomli and typing-extensions), all pure wheels; and ruff's newest version,
    # on the index for every platform (uvindex_wheels.TOOL_WHEELS) and in the mirror for ruff_install.
    tool = {"tool_requirement": "pylint==3.3.1", "tool_upgrade": "pylint==3.3.2", "tool_ruff": uvmirror.TOOLS["ruff"][1][-1]}
    wheels += venvindex.fetch((tool["tool_requirement"], tool["tool_upgrade"], "astroid==3.3.5", "dill==0.3.9",
                               "isort==5.13.2", "mccabe==0.7.0", "platformdirs==4.3.6", "tomlkit==0.13.2"))
    # uv_sync's proof (hacking/fleet_sync.yml): an application that hacking/fleet_sync.yml locks with the real uv,
    # pinning the fleet set without PyYAML (no cp39 i686 wheel), built by flit_core (a pure wheel, added here);
    # its second lock moves six and packaging to the newer releases on the index (FLEET_UPGRADES), whose six
    # wheel the playbook tampers with for a while.
    sync_pins = list(venvindex.FLEET_PURE) + [p for p in venvindex.FLEET_COMPILED
                                              if not any(p == q for q, _arch in venvindex.FLEET_NO_WHEEL)]
    newer = dict(u.split("==") for u in venvindex.FLEET_UPGRADES)
    sync = {"sync_pins": sync_pins,
            "sync_pins_b": [p.split("==")[0] + "==" + newer.get(p.split("==")[0], p.split("==")[1]) for p in sync_pins],
            "sync_tamper": os.path.basename(venvindex.fetch(("six==1.17.0",))[0])}
    wheels += venvindex.fetch(("flit_core==4.1.0",))
    index = stack.enter_context(uvindex.pypiserver_index(extra=tuple(wheels)))
    return {name: dict(tool, venv_requirements=sets[target]["requirements"], venv_compiled=sets[target]["compiled"], **sync)
            for name, target in targets.items()}, index


def stage_python_fleet(track: str, ctx: dict) -> None:
    """uv_python across the fleet of stage_fleet (hacking/fleet_python.yml), from real CPython builds.

    tests/utils/pbs.py relocates real interpreters into python-build-standalone's layout (this
    machine's Debian 3.11.2 and pyenv 3.11.7; each Debian 11 root's 3.9.2 for amd64, arm64 and
    i386), each checked on its own host, and writes uv's downloads JSON for each host group. The
    archives are served by uvmirror.py's counting server on 127.0.0.1 (one for the whole fleet:
    its counters are the fleet's egress), uv itself by the uv mirror. The hosts are this machine
    twice (two local hosts, so that controller mode has two hosts needing one archive) and the
    three Debian 11 roots over SSH; the managed Python of the local hosts is the track's
    (3.6 on 2.16). A tripwire proxy (tests/utils/tripwire.py) takes every proxy variable of the
    unprivileged user's uv commands. The same hosts (this machine once) then prove uv_venv on
    the managed Python, with each host's real package set from a pypiserver index
    (python_fleet_venv_index), then uv_tool (hacking/fleet_tool_cli.yml) and uv_sync (hacking/fleet_sync.yml:
    an application locked by the real uv, deployed to the same hosts). A platform host that cannot run here is left out and the
    stage ends SKIPPED, naming it.
    """
    import pbs  # pylint: disable=import-outside-toplevel  # tests/utils/pbs.py
    import tripwire  # pylint: disable=import-outside-toplevel  # tests/utils/tripwire.py

    fleet = prepare_fleet(ctx, "debootstrap, mount, chroot")
    started = time.time()
    manifest = pbs.build(("bookworm", "bullseye"))
    log("Python archives ready in %.1f s (%s)" % (time.time() - started, manifest["dir"]))
    path = venv(track)
    with fleet.running("the python fleet"):
        with tempfile.TemporaryDirectory(prefix="uv-pyfleet-") as scratch, contextlib.ExitStack() as stack:
            os.chmod(scratch, 0o755)  # the local hosts' test folders are used by an unprivileged user too
            www = pbs.serve_root(manifest, os.path.join(scratch, "www"))
            pbs_url = stack.enter_context(mirror_server(www))
            pbs.write_jsons(manifest, www, pbs_url)
            trip = tripwire.Tripwire(log=os.path.join(scratch, "tripwire.jsonl")).start()
            stack.callback(trip.stop)
            groups = python_fleet_hosts(manifest, pbs_url)
            venv_sets, venv_index = python_fleet_venv_index(stack, groups)
            for host_root in fleet.all_roots:  # uv_tool's proof runs the roots' own Python 3.9
                stack.enter_context(debian_distutils(host_root))
            remotes = fleet.ssh_hosts(stack, scratch)
            hosts = {}
            for name in ("localhost", "localhost2"):
                hosts[name] = dict(groups["bookworm"], ansible_connection="local",
                                   ansible_python_interpreter=find_python(TRACKS[track]["managed"][-1]),
                                   py_root=os.path.join(scratch, name), **venv_sets["bookworm"])
            for host, remote in remotes.items():
                arch = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686"}[PLATFORM_HOSTS.get(host, "amd64")]
                if arch not in groups:
                    raise RuntimeError("pbs.py built no archive for the %s root" % host)
                hosts[host] = dict(groups[arch], py_root="/tmp/pyfleet-uv-python", **venv_sets[arch],
                                   **remote_connection(remote))
            group_vars = {"uv_mirror": stack.enter_context(mirror_server(ctx["mirror"])), "uv_new": UV_NEW,
                          "pbs_url": pbs_url, "pbs_www": www, "pbs_cache": os.path.join(scratch, "controller-cache"),
                          "tripwire_url": trip.url, "dead_proxy": "http://127.0.0.1:9",
                          "venv_index": venv_index.url, "venv_index_stats": venv_index.stats,
                          "venv_index_packages": venv_index.packages}
            inventory_file = os.path.join(scratch, "inventory.json")
            with open(inventory_file, "w") as handle:
                json.dump({"all": {"vars": group_vars, "hosts": hosts}}, handle, indent=1)
            env = ansible_env(ctx["tree"], {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(scratch, "cp")})
            with sshd_logs_on_failure(remotes):
                run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory_file, "--forks", "5",
                     os.path.join(ROOT, "hacking", "fleet_python.yml")], env=env)
            log("python fleet: uv_venv package sets of %s projects" % ", ".join(
                "%d (%s)" % (len(v["venv_requirements"]), name) for name, v in sorted(venv_sets.items())))
            seen = trip.connections()
            if seen:
                raise RuntimeError("the tripwire proxy saw %d connection(s): %s" % (len(seen), seen[:5]))
