# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv_venv's report from the package lists before and after (a mixin of ``_venv_task.UvVenv``).

PRIVATE API: only for this collection's modules; names may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import changes_from_lists, normalize_name, read_pyvenv, url_version

__all__ = ["VenvReport", "reinstalled_names"]


class VenvReport(object):
    """What uv_venv reports, from the package lists before and after."""

    def commands(self):
        return [redact_text(" ".join(c)) for c in self.runner.commands] if self.runner else []

    def report(self, action, reason, before, after, reinstalled):
        result = self.result
        check = self.module.check_mode
        changes = changes_from_lists(before, after, list(after) if action == "recreate" else reinstalled, downgrades=True)
        result["packages"] = changes
        result["before"] = dict((v["name"], v["version"]) for v in before.values())
        result["after"] = dict((v["name"], v["version"]) for v in after.values())
        result["created"] = action == "create"
        result["recreated"] = action == "recreate"
        result["reason"] = reason
        package_change = any(changes[k] for k in changes)
        result["changed"] = action != "keep" or package_change
        cfg = None if check and action != "keep" else read_pyvenv(self.path)
        if cfg:
            result["python"]["version"] = cfg.get("version_info") or cfg.get("version")
            result["python"]["base"] = result["python"]["base"] or _base(cfg, self.venv_python)
        would = "would " if check else ""
        parts = []
        if action == "create":
            parts.append("%s %s" % ("would create" if check else "created", self.shown))
        elif action == "recreate":
            parts.append("%s %s (%s)" % ("would recreate" if check else "recreated", self.shown, reason))
        for key, verb in (("installed", "install"), ("upgraded", "upgrade"), ("downgraded", "downgrade"),
                          ("reinstalled", "reinstall"), ("removed", "remove")):
            if changes[key]:
                parts.append("%s%s %s" % (would, verb if check else _past(verb), _names(changes[key])))
        result["msg"] = "; ".join(parts) if parts else "%s is as requested; nothing to do" % self.shown
        result["cmd"] = self.commands()
        if self.module._diff:
            result["diff"] = dict(
                before_header="%s (packages)" % self.shown, after_header="%s (packages)" % self.shown,
                before="".join(_line(v) for _k, v in sorted(before.items())),
                after="".join(_line(v) for _k, v in sorted(after.items())))


def _line(entry):
    return "%s==%s\n" % (entry["name"], entry["version"]) if entry["version"] else "%s\n" % entry["name"]


def reinstalled_names(plan):
    """The names ``plan`` reinstalls: ``~ x``, ``- x==v`` with ``+ x==v``, and ``- x==v`` with ``+ x @ URL`` (a direct
    reference, local or remote) whose version is ``v`` or cannot be told (another one is an upgrade or a downgrade)."""
    removed = dict((normalize_name(n), v) for s, n, v in plan if s == "-")
    return [n for s, n, v in plan if (s == "~") or (s == "+" and normalize_name(n) in removed and (
        removed[normalize_name(n)] == v or ("://" in v and url_version(v) in (None, removed[normalize_name(n)]))))]


def _base(cfg, venv_python):
    home = cfg.get("home")
    if home and os.path.exists(venv_python):
        return os.path.realpath(venv_python)
    return home


def _past(verb):
    return verb + "d" if verb.endswith("e") else verb + "ed"


def _names(items):
    out = []
    for item in items:
        if "to" in item:
            out.append("%s %s -> %s" % (item["name"], item["from"], item["to"]))
        else:
            out.append("%s %s" % (item["name"], item["version"]) if item["version"] else item["name"])
    return ", ".join(out)
