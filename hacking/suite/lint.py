# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lint stage: ansible-lint as a contributor runs it, changelog lint and hygiene, galaxy-importer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time

from .common import ROOT, build_tarball, collection_dir, log, private_tree, run, tool_env, tool_venv
import lint_output  # on sys.path through .common


# galaxy-importer as Galaxy runs it, minus what needs the network or containers:
# ansible-test sanity runs in its own stage (sanity-newest); ansible-lint stays offline.
GALAXY_IMPORTER_CFG = """[galaxy-importer]
LOG_LEVEL_MAIN = INFO
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_DOC = True
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
RUN_FLAKE8 = False
CHECK_CHANGELOG = True
CHECK_REQUIRED_TAGS = False
"""


def lint_collection(bindir: str, top: str) -> None:
    """antsibull-changelog lint and hacking/release_hygiene.py on the tree at ``top``."""
    coll = collection_dir(top)
    env = tool_env(os.path.dirname(bindir), {"ANSIBLE_COLLECTIONS_PATH": top})
    run([os.path.join(bindir, "antsibull-changelog"), "lint"], cwd=coll, env=env)
    run([os.path.join(bindir, "antsibull-changelog"), "lint-changelog-yaml",
         os.path.join("changelogs", "changelog.yaml")], cwd=coll, env=env)
    run([os.path.join(bindir, "python"), os.path.join(coll, "hacking", "release_hygiene.py"), coll], env=env)


# What a clean ansible-lint run prints: its one summary line (on stderr), nothing else.
ANSIBLE_LINT_PASSED = re.compile(r"^Passed: 0 failure\(s\), 0 warning\(s\) in \d+ files processed of \d+ encountered\. "
                                 r"Profile 'production' was required, and it passed\.$")


def plain_clone(dest: str) -> str:
    """A ``git clone`` of the checkout at ``dest`` (an ordinary folder name), with the work tree's
    uncommitted state laid over it (changed and untracked files copied, deleted ones removed), so
    that the stage lints what is in the work tree the way a contributor's clone holds it."""
    run(["git", "clone", "--quiet", "--no-hardlinks", ROOT, dest])
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = os.path.join(ROOT, name), os.path.join(dest, name)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
        elif os.path.lexists(target):  # deleted in the work tree, not yet committed
            os.remove(target)
    return dest


def lint_run(bindir: str, clone: str, env: dict, extra: list) -> tuple:
    """One ``ansible-lint --profile production`` run in ``clone``; ``(exit, summaries, tolerated, findings)``."""
    out = run([os.path.join(bindir, "ansible-lint"), "--profile", "production", "--nocolor"] + extra,
              cwd=clone, env=env, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    summaries, tolerated, findings = lint_output.classify(out.stdout, os.path.dirname(bindir), clone,
                                                          ANSIBLE_LINT_PASSED)
    if tolerated:
        log("ansible-lint %s: %s" % (" ".join(extra) or "(online)",
                                     lint_output.describe_tolerated(tolerated, os.path.dirname(bindir))))
    return out.returncode, summaries, tolerated, findings, out.stdout


# A finding the canary run must report: a task of ours without a name that runs a command.
LINT_CANARY = """
- name: Lint canary (the lint stage checks that a finding about our content fails it)
  hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.command: echo canary
"""


def lint_plain(bindir: str) -> None:
    """``ansible-lint --profile production`` as a contributor runs it: in a fresh clone whose folder is
    not ansible_collections/pyfleet/uv, from its root, with no ANSIBLE_* variable set; then
    ``--offline`` in the same clone. pyfleet.uv.* must resolve through the repository's own
    .ansible-lint and ansible.cfg. Any output besides the one summary line fails, except Python
    deprecation warnings raised at import inside the lint venv itself (hacking/lint_output.py says
    which lines those are; they are logged with the versions that raised them), and the clone's
    git status must be the same afterwards (what ansible-lint writes is git-ignored). Last, a
    canary: a playbook of ours with a nameless command task must come out as a finding.

    The daily JSON schema refresh of an online run is switched off (ANSIBLE_LINT_SKIP_SCHEMA_UPDATE):
    it would ask a host this machine must not contact; it is not part of resolving the collection.
    """
    with tempfile.TemporaryDirectory(prefix="uv-lint-") as scratch:
        clone = plain_clone(os.path.join(scratch, "pyfleet-uv"))
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                                capture_output=True, text=True, check=True).stdout
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "NO_COLOR", "FORCE_COLOR"))}
        env.update({"PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "ANSIBLE_LINT_SKIP_SCHEMA_UPDATE": "1"})
        for extra in ([], ["--offline"]):
            started = time.time()
            code, summaries, _tolerated, findings, text = lint_run(bindir, clone, env, extra)
            if code or findings or len(summaries) != 1:
                print(text[-8000:])
                raise RuntimeError("ansible-lint %s in a plain clone (exit %d) printed %d line(s) besides its summary "
                                   "and the tolerated dependency warnings: %s"
                                   % (" ".join(extra) or "(online)", code, len(findings), "; ".join(findings[:5])[:1500]))
            log("ansible-lint %s in a plain clone: clean in %.1f s (%s)" % (
                " ".join(extra) or "(online)", time.time() - started, summaries[0]))
        after = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                               capture_output=True, text=True, check=True).stdout
        if after != status:
            raise RuntimeError("ansible-lint left files that git does not ignore in the clone:\n%s" % after)
        canary = os.path.join(clone, "hacking", "lint_canary.yml")
        with open(canary, "w") as handle:
            handle.write("---" + LINT_CANARY)
        code, _summaries, _tolerated, findings, text = lint_run(bindir, clone, env, ["--offline", canary])
        if not code or not any("lint_canary.yml" in line for line in findings):
            print(text[-8000:])
            raise RuntimeError("the lint canary was not reported as a finding (exit %d; findings: %s): the stage "
                               "would let a new finding about our content pass" % (code, "; ".join(findings[:5])))
        log("ansible-lint canary: reported as it must be (exit %d, %d finding line(s))" % (code, len(findings)))


def stage_lint(track: str, ctx: dict) -> None:
    """ansible-lint --profile production in a plain clone, changelog lint and hygiene, galaxy-importer.

    ansible-lint runs as a contributor runs it (see lint_plain): a fresh clone under an ordinary
    folder name, nothing in the environment, online (ansible-lint installs the checkout into its
    .ansible/ project cache itself; nothing is fetched) and then --offline. The changelog checks
    run on the ansible_collections/pyfleet/uv copy. galaxy-importer imports the built tarball as
    Galaxy would (ansible-doc, ansible-lint, changelog, metadata) and any warning it prints fails
    the stage.
    """
    lint = tool_venv("lint")
    bindir = os.path.join(lint, "bin")
    lint_plain(bindir)
    with private_tree(ctx) as top:
        lint_collection(bindir, top)
    importer = tool_venv("importer")
    with private_tree(ctx) as top, tempfile.TemporaryDirectory(prefix="uv-importer-") as scratch:
        tarball = build_tarball(bindir, collection_dir(top), scratch)
        config = os.path.join(scratch, "galaxy-importer.cfg")
        with open(config, "w") as handle:
            handle.write(GALAXY_IMPORTER_CFG)
        out = run([os.path.join(importer, "bin", "python"), "-m", "galaxy_importer.main", tarball],
                  env=tool_env(importer, {"GALAXY_IMPORTER_CONFIG": config, "TMPDIR": scratch}),
                  cwd=scratch,  # it writes importer_result.json into the working directory
                  check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(out.stdout)
        _summaries, tolerated, _findings = lint_output.classify(out.stdout, importer, top)
        if tolerated:
            log("galaxy-importer: %s" % lint_output.describe_tolerated(tolerated, importer))
        complaints = [line for line in out.stdout.splitlines()
                      if line.startswith(("WARNING", "ERROR")) and line not in tolerated]
        if out.returncode or complaints:
            raise RuntimeError("galaxy-importer (exit %d): %s" % (out.returncode, "; ".join(complaints)))
