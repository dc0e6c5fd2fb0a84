# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ansible's dependency finder packs into each module's AnsiballZ payload (issue 32).

    python benchmarks/payload.py            # a table, one row per module
    python benchmarks/payload.py --json     # the same as JSON
    python benchmarks/payload.py --check    # exit 1 when a module is past its budget

Run it with an interpreter that has ansible-core (a track's venv). Each payload is built by
ansible-core's own ``module_common.recursive_finder`` and ``_add_module_to_zip``, as
``modify_module`` does for a task, so what is measured is what a host receives: the finder
reads every import, including the ones inside functions, and packs what it finds. The
payload is compiled on both sides of every call, so its size is a cost of every task.

The budget (``payload_budget.json`` beside this file) holds, per module, the files and KB of
this collection's module_utils in its payload. ansible's own module_utils are reported but
not judged: their size moves with ansible-core, not with this repository.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import inspect
import io
import json
import math
import os
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUDGET = os.path.join(HERE, "payload_budget.json")
NAMESPACE, NAME = "pyfleet", "uv"
COLLECTION_MU = "ansible_collections/%s/%s/plugins/module_utils/" % (NAMESPACE, NAME)
ANSIBLE_MU = "ansible/module_utils/"
KB = 1000.0

# The figures the budget judges, with what a reader calls them.
JUDGED = {"collection_mu_files": "files of this collection's module_utils",
          "collection_mu_kb": "KB of this collection's module_utils"}


def modules(root=ROOT):
    """The collection's module names (``plugins/modules/*.py``), sorted."""
    paths = glob.glob(os.path.join(root, "plugins", "modules", "*.py"))
    return sorted(os.path.basename(p)[:-3] for p in paths if not os.path.basename(p).startswith("__"))


def _install_collection_loader(top):
    """Let ansible's finder see ``ansible_collections`` under ``top`` (as ansible-playbook does)."""
    # pylint: disable-next=import-outside-toplevel
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    _AnsibleCollectionFinder(paths=[top], scan_sys_paths=False)._install()  # pylint: disable=protected-access


def build_zip(module_path, module_fqn):
    """The AnsiballZ zip of one module (before base64), built by ansible-core's own finder.

    ansible-core 2.19 added an ``extension_manager`` argument (debugger and coverage hooks,
    off here) and takes a ``datetime``; 2.16 to 2.18 take a ``time`` tuple. The compression is
    the configured one (``DEFAULT_MODULE_COMPRESSION``, ZIP_DEFLATED unless changed).
    """
    # pylint: disable=import-outside-toplevel,protected-access
    from ansible import constants as C
    from ansible.executor import module_common

    with open(module_path, "rb") as handle:
        data = handle.read()
    name = module_fqn.rsplit(".", 1)[1]
    buffer = io.BytesIO()
    compression = getattr(zipfile, C.DEFAULT_MODULE_COMPRESSION, zipfile.ZIP_STORED)
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        if "extension_manager" in inspect.signature(module_common.recursive_finder).parameters:
            from ansible._internal._ansiballz import _builder
            extensions = _builder.ExtensionManager.create(task_vars={})
            when = datetime.datetime.now(datetime.timezone.utc)
            module_common.recursive_finder(name, module_fqn, data, archive, when, extensions)
            module_common._add_module_to_zip(archive, when, module_fqn, data, module_path, extensions)
        else:
            when = time.gmtime()[:6]
            module_common.recursive_finder(name, module_fqn, data, archive, when)
            module_common._add_module_to_zip(archive, when, module_fqn, data)
    return buffer.getvalue()


def sizes(zipped, module_name):
    """Per-module figures of one zip: files and KB of source by origin, and the zip's size.

    Empty ``__init__.py`` files are the package stubs ansible synthesizes to reach a file; they
    are not counted as files.
    """
    row = {"collection_mu_files": 0, "collection_mu_kb": 0.0, "ansible_mu_files": 0, "ansible_mu_kb": 0.0,
           "module_kb": 0.0, "zip_kb": round(len(zipped) / KB, 1), "collection_mu": []}
    own = "ansible_collections/%s/%s/plugins/modules/%s.py" % (NAMESPACE, NAME, module_name)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        for info in archive.infolist():
            if info.file_size == 0 and info.filename.endswith("/__init__.py"):
                continue
            if info.filename.startswith(COLLECTION_MU):
                row["collection_mu_files"] += 1
                row["collection_mu_kb"] += info.file_size / KB
                row["collection_mu"].append(info.filename[len(COLLECTION_MU):])
            elif info.filename.startswith(ANSIBLE_MU):
                row["ansible_mu_files"] += 1
                row["ansible_mu_kb"] += info.file_size / KB
            elif info.filename == own:
                row["module_kb"] += info.file_size / KB
    for key in ("collection_mu_kb", "ansible_mu_kb", "module_kb"):
        row[key] = round(row[key], 1)
    row["collection_mu"].sort()
    return row


def _collection_top(root):
    """``(top, cleanup)``: a directory holding ``ansible_collections/pyfleet/uv`` that is ``root``.

    A suite copy already sits in such a tree; a plain checkout is linked into a temporary one.
    """
    parts = os.path.abspath(root).split(os.sep)
    if parts[-3:] == ["ansible_collections", NAMESPACE, NAME]:
        return os.sep.join(parts[:-3]) or os.sep, None
    scratch = tempfile.TemporaryDirectory(prefix="pyfleet-uv-payload-")
    os.makedirs(os.path.join(scratch.name, "ansible_collections", NAMESPACE))
    os.symlink(os.path.abspath(root), os.path.join(scratch.name, "ansible_collections", NAMESPACE, NAME))
    return scratch.name, scratch


def measure(root=ROOT):
    """``{module: sizes}`` for every module of the collection at ``root``, plus ansible-core's version."""
    # pylint: disable-next=import-outside-toplevel
    from ansible.release import __version__
    top, scratch = _collection_top(root)
    try:
        _install_collection_loader(top)
        rows = {}
        for module in modules(root):
            path = os.path.join(top, "ansible_collections", NAMESPACE, NAME, "plugins", "modules", module + ".py")
            fqn = "ansible_collections.%s.%s.plugins.modules.%s" % (NAMESPACE, NAME, module)
            rows[module] = sizes(build_zip(path, fqn), module)
    finally:
        if scratch is not None:
            scratch.cleanup()
    return {"ansible_core": __version__, "modules": rows}


def suggest(row):
    """A budget entry for ``row``: today's figures plus a small margin (one file; 3% and at least
    1 KB, rounded up to half a KB), with today's figures beside it for the reviewer."""
    kb = row["collection_mu_kb"]
    return {"collection_mu_files": row["collection_mu_files"] + 1,
            "collection_mu_kb": math.ceil((kb + max(1.0, kb * 0.03)) * 2) / 2.0,
            "today": {"collection_mu_files": row["collection_mu_files"], "collection_mu_kb": kb}}


def load_budget(path=BUDGET):
    """The per-module budgets of ``payload_budget.json``."""
    with open(path) as handle:
        return json.load(handle)["modules"]


def judge(measured, budgets):
    """Every way ``measured`` (``{module: sizes}``) breaks ``budgets``, as messages; [] when none.

    A module without a budget is a problem (a new module must get one, reviewed), and so is a
    budget for a module that no longer exists (it would hide a later module of that name).
    """
    problems = []
    for module in sorted(measured):
        row = measured[module]
        budget = budgets.get(module)
        if budget is None:
            problems.append(
                "%s has no payload budget: add an entry to benchmarks/payload_budget.json (today's %d files, %.1f KB "
                "of this collection's module_utils, plus a small margin) with a changelog line" % (
                    module, row["collection_mu_files"], row["collection_mu_kb"]))
            continue
        for key, label in JUDGED.items():
            if key not in budget:
                problems.append("%s's budget has no %r: add it to benchmarks/payload_budget.json" % (module, key))
            elif row[key] > budget[key]:
                problems.append(
                    "%s's payload has grown past its budget: %s %s > %s (it packs %s). Keep host-side code out of "
                    "this module's imports (the finder follows imports inside functions too), or raise the budget in "
                    "benchmarks/payload_budget.json in a reviewed change with a changelog line" % (
                        module, label, row[key], budget[key], ", ".join(row["collection_mu"]) or "none"))
    for module in sorted(set(budgets) - set(measured)):
        problems.append("benchmarks/payload_budget.json has a budget for %s, which is not a module: remove it" % module)
    return problems


def table(result):
    """The measurements as a Markdown table."""
    lines = ["| module | collection module_utils (files, KB) | ansible module_utils (files, KB) | module (KB) "
             "| zip (KB) |", "| --- | --- | --- | --- | --- |"]
    for module, row in result["modules"].items():
        lines.append("| `%s` | %d, %.1f | %d, %.1f | %.1f | %.1f |" % (
            module, row["collection_mu_files"], row["collection_mu_kb"], row["ansible_mu_files"],
            row["ansible_mu_kb"], row["module_kb"], row["zip_kb"]))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="AnsiballZ payload of each pyfleet.uv module")
    parser.add_argument("--root", default=ROOT, help="the collection's checkout (default: this one)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--check", action="store_true", help="exit 1 when a module is past its budget")
    parser.add_argument("--suggest", action="store_true",
                        help="print a budget entry (today's figures plus the margin) for each module")
    parser.add_argument("--budget", default=BUDGET, help="the budget file (default: %(default)s)")
    args = parser.parse_args(argv)
    result = measure(args.root)
    if args.suggest:
        print(json.dumps({m: suggest(row) for m, row in result["modules"].items()}, indent=1))
    elif args.json:
        print(json.dumps(result, indent=1))
    else:
        print("ansible-core %s\n\n%s" % (result["ansible_core"], table(result)))
    if args.check:
        problems = judge(result["modules"], load_budget(args.budget))
        for problem in problems:
            print("FAIL: " + problem, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
