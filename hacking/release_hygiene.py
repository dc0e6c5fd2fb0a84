# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Changelog checks that antsibull-changelog lint does not make (run by the lint-newest stage).

    python hacking/release_hygiene.py [COLLECTION_ROOT]

- While galaxy.yml's version is not released yet (not in changelogs/changelog.yaml),
  a fragment must carry its ``release_summary``.
- No fragment may describe a module or plugin that is new in that version: antsibull-changelog
  lists new plugins itself (from their ``version_added``), so an entry such as
  ``uv_facts - report ...`` for a module that no release has shipped yet says twice what
  the changelog already says, as a change to something users never had. Put it in the
  release summary, or under ``trivial`` if it only matters to developers.

Needs PyYAML (the lint tool environment has it). Exits 1 with one line per problem.
"""

import glob
import os
import re
import sys

import yaml

# Sections whose entries are not rendered as changes to a plugin.
NOT_CHANGES = {"release_summary", "trivial"}


def new_plugins(root: str, version: str) -> set:
    """Names of the modules and plugins whose ``version_added`` is ``version``."""
    names = set()
    for path in glob.glob(os.path.join(root, "plugins", "*", "*.py")):
        if os.path.basename(os.path.dirname(path)) in ("module_utils", "plugin_utils", "doc_fragments"):
            continue
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        match = re.search(r"^version_added:\s*['\"]?([0-9][^'\"\s]*)", text, re.MULTILINE)
        if match and match.group(1) == version:
            names.add(os.path.splitext(os.path.basename(path))[0])
    return names


def problems(root: str) -> list:
    """Every problem found, as human-readable lines (empty when all is well)."""
    with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    version = str(galaxy["version"])
    with open(os.path.join(root, "changelogs", "changelog.yaml"), encoding="utf-8") as handle:
        released = set((yaml.safe_load(handle) or {}).get("releases") or {})
    if version in released:
        return []  # a release is being prepared only once galaxy.yml's version moves on
    new = new_plugins(root, version)
    found = []
    summary = False
    for path in sorted(glob.glob(os.path.join(root, "changelogs", "fragments", "*.y*ml"))):
        name = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as handle:
            fragment = yaml.safe_load(handle) or {}
        summary = summary or bool(fragment.get("release_summary"))
        for section, entries in fragment.items():
            if section in NOT_CHANGES or not isinstance(entries, list):
                continue
            for entry in entries:
                subject = str(entry).split(" - ", 1)[0].strip().split(".")[-1]
                if subject in new:
                    found.append(
                        "%s: %s entry about %s, which is new in %s: antsibull-changelog already lists "
                        "it as a new plugin; fold this into the release summary or move it to trivial"
                        % (name, section, subject, version))
    if not summary:
        found.append("changelogs/fragments: no release_summary fragment for the unreleased version %s" % version)
    return found


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = argv[0] if argv else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = problems(root)
    for line in found:
        print(line)
    print("release hygiene: %d problem(s)" % len(found))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
