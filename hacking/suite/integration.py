# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration targets: as roles with the suite's mirror and indexes (integration), and each
alone under ``ansible-test integration`` as a contributor runs them (ansible-test-integration).

Both find their targets in tests/integration/targets (``integration_targets``): a new target
needs no edit here.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time

from .common import (ROOT, TRACKS, UV_NEW, ansible_env, collection_dir, expected_vars, find_python, log,
                     mirror_server, private_tree, run, seed_get_pip, venv)
import uvindex  # on sys.path through .common

# ansible-test aliases that keep a target out of a plain ``ansible-test integration`` run, and so
# out of the suite's too (``hidden``: a setup role, not a test).
SKIP_ALIASES = ("hidden", "disabled", "unsupported", "unstable")
# The order in which today's targets run in hacking/integration.yml (uv_tool uses the package
# index that uv_venv started earlier in the play instead of starting its own). It only orders:
# a target not named here runs after these, by name, and a name without its target is passed over.
RUN_ORDER = ("uv_facts", "uv_install", "tool_install", "uv_mirror_check", "uv_config", "uv_python", "uv_venv",
             "uv_tool")
# The targets that ``ansible-test integration`` runs in the suite (ansible-test-integration): those
# whose contributor run takes a path that the integration stages (which pass their own mirror,
# indexes and values) never take. uv_facts: setup_uv_mirror's own path (it finds the cached
# mirror, serves it on 127.0.0.1, probes the host, defaults uv_test_root and stops its server in a
# handler), the same for every target; uv_mirror_check: without uv_indexes it starts uvindex.py's
# static index itself; uv_tool: alone it starts its own package index (in a play it reuses
# uv_venv's). The other targets take the same tasks as in the integration stages (there with
# more: the indexes, the too-new build), so running them here again proved nothing new for
# about 400 s of CPU; a contributor still runs any of them with ``ansible-test integration NAME``.
CONTRIBUTOR_TARGETS = ("uv_facts", "uv_mirror_check", "uv_tool")


def integration_targets(coll: str) -> list:
    """The targets of ``coll``'s tests/integration/targets, in RUN_ORDER: every folder except the
    ``setup_*`` roles and those whose ``aliases`` holds one of SKIP_ALIASES."""
    top = os.path.join(coll, "tests", "integration", "targets")
    found = []
    for name in sorted(os.listdir(top)):
        if name.startswith("setup_") or not os.path.isdir(os.path.join(top, name)):
            continue
        aliases = os.path.join(top, name, "aliases")
        if os.path.isfile(aliases):
            with open(aliases) as handle:
                if {line.split("#")[0].strip() for line in handle} & set(SKIP_ALIASES):
                    continue
        found.append(name)
    return sorted(found, key=lambda n: (RUN_ORDER.index(n) if n in RUN_ORDER else len(RUN_ORDER), n))


def stage_integration(track: str, ctx: dict) -> None:
    """The integration targets against the loopback mirror and two real package indexes.

    pypiserver (PEP 503 HTML) and devpi-server (PEP 691 JSON) come from
    tests/utils/uvindex.py; each index case runs on every managed Python of the track.
    hacking/integration.yml runs the targets of ``integration_targets`` as roles.
    """
    path = venv(track)
    targets = integration_targets(collection_dir(ctx["tree"]))
    log("integration targets: %s" % ", ".join(targets))
    with mirror_server(ctx["mirror"]) as url, uvindex.indexes(("pypiserver", "devpi")) as indexes:
        index_vars = [indexes[kind].ansible_vars() for kind in ("pypiserver", "devpi")]
        for managed in TRACKS[track]["managed"]:
            interpreter = find_python(managed)
            with tempfile.TemporaryDirectory(prefix="uv-it-") as scratch:
                inventory = os.path.join(scratch, "inventory.ini")
                with open(inventory, "w") as handle:
                    handle.write("[local]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n"
                                 % interpreter)
                extra = dict(expected_vars(ctx), uv_mirror=url, uv_test_root=os.path.join(scratch, "root"),
                             uv_indexes=index_vars, uv_integration_targets=targets)
                extra_file = os.path.join(scratch, "vars.json")
                with open(extra_file, "w") as handle:
                    json.dump(extra, handle)
                playbook = os.path.join(ROOT, "hacking", "integration.yml")
                run([os.path.join(path, "bin", "ansible-playbook"), "-i", inventory, playbook,
                     "-e", "@" + extra_file], env=ansible_env(ctx["tree"]))
                log("integration on Python %s passed" % managed)
        check_password_hidden(path, ctx, indexes["devpi"])


def check_password_hidden(path: str, ctx: dict, index) -> None:
    """Basic auth against an index at -vvv: the install works and the password is never printed."""
    with tempfile.TemporaryDirectory(prefix="uv-vvv-") as scratch:
        args = {"version": UV_NEW, "index_url": index.auth_url, "url_username": index.username,
                "url_password": index.password, "install_dir": os.path.join(scratch, "bin")}
        out = run([os.path.join(path, "bin", "ansible"), "localhost", "-vvv", "-m", "pyfleet.uv.uv_install",
                   "-a", json.dumps(args), "-e", "ansible_python_interpreter=%s" % sys.executable],
                  env=ansible_env(ctx["tree"]), capture_output=True, text=True, check=False)
        output = out.stdout + out.stderr
        if out.returncode != 0 or "CHANGED" not in output:
            raise RuntimeError("the -vvv install with basic auth failed:\n" + output[-3000:])
        if index.password in output:
            raise RuntimeError("the index password appears in the -vvv output")
        log("-vvv with basic auth: installed, password not shown (%d bytes of output)" % len(output))


def setup_mirror_servers(tree: str) -> set:
    """PIDs of mirror servers that setup_uv_mirror started from the collection copy at ``tree``.

    They run ``<tree>/.../tests/utils/uvmirror.py serve`` with a port file in a
    ``uv-setup-mirror-*`` directory; servers of other copies (other people's runs) do not count.
    """
    mark = os.path.join(tree, "").encode()
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(mark) and a.endswith(b"uvmirror.py") for a in argv) \
                and any(b"uv-setup-mirror-" in a for a in argv):
            pids.add(int(pid))
    return pids


def stage_ansible_test_integration(track: str, ctx: dict) -> None:
    """The CONTRIBUTOR_TARGETS alone under ``ansible-test integration``, as a contributor runs them.

    Nothing of the suite's is passed: setup_uv_mirror (a meta dependency of each target)
    finds the mirror the suite built in the cache, serves it on 127.0.0.1, probes the host
    for the expected values and stops its server at the end; the stage fails if a server
    was left behind, or if one of CONTRIBUTOR_TARGETS is no longer a target.
    """
    path = venv(track)
    seed_get_pip(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    with private_tree(ctx) as top:
        try:
            found = integration_targets(collection_dir(top))
            targets = [name for name in found if name in CONTRIBUTOR_TARGETS]
            if len(targets) != len(CONTRIBUTOR_TARGETS):
                raise RuntimeError("CONTRIBUTOR_TARGETS names %s, not among the targets (%s)"
                                   % (sorted(set(CONTRIBUTOR_TARGETS) - set(targets)), ", ".join(found)))
            log("ansible-test integration of %s (the others run in the integration stages: %s)"
                % (", ".join(targets), ", ".join(n for n in found if n not in targets)))
            run([os.path.join(path, "bin", "ansible-test"), "integration"] + targets
                + ["--python", TRACKS[track]["python"], "--color", "no"], cwd=collection_dir(top), env=env)
        finally:
            deadline = time.time() + 10  # the handler's SIGTERM takes a moment to end the server
            while setup_mirror_servers(top) and time.time() < deadline:
                time.sleep(0.2)
            left = setup_mirror_servers(top)
            for pid in left:  # started from this stage's own copy, so this stage's to stop
                os.kill(pid, signal.SIGTERM)
        if left:
            raise RuntimeError("setup_uv_mirror left its mirror server running (pids %s)" % sorted(left))
