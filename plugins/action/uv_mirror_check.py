# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of pyfleet.uv.uv_mirror_check: the whole module runs here.

Reads each host's ``ansible_facts.uv`` from ``hostvars``, resolves the version once,
asks the source about every distinct target the fleet needs (each URL once per run,
through ``plugin_utils._source.ControllerSource``), and reports which build each host
would get. Nothing runs on any host; check mode runs the same (it only reads).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import (
    check_version_option,
    mirror_check_argument_spec as argument_spec,
)


# Options of the other members of the uv action group (uv_install, ruff_install, ty_install) that
# this module has no use for: module_defaults for group/pyfleet.uv.uv hand them to every member,
# so they are accepted here and ignored (tests/unit/plugins/action checks the list against the
# install modules' argument spec).
IGNORED_GROUP_OPTIONS = ("arch", "download_on", "force", "install_dir", "libc", "plan_only", "src", "src_origin",
                         "state")


class ActionModule(ActionBase):
    """See the module docstring."""

    TRANSFERS_FILES = False
    _requires_connection = False  # nothing runs on a host (ansible-core 2.15+ honours this)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        spec = argument_spec()
        spec.update((name, dict(type="raw")) for name in IGNORED_GROUP_OPTIONS)
        _validation, args = self.validate_argument_spec(
            argument_spec=spec,
            mutually_exclusive=[("mirror_url", "index_url"), ("hosts", "targets")],
        )
        warnings = []
        result["changed"] = False
        try:
            result.update(self._check(args, task_vars, warnings.append))
        except UvError as exc:
            result.update(failed=True, msg=exc.msg)
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        return result

    def _check(self, args, task_vars, warn):
        # Imported here: requests is needed only once the task really runs.
        from ansible_collections.pyfleet.uv.plugins.plugin_utils import _mirror_check as mc  # pylint: disable=import-outside-toplevel
        from ansible_collections.pyfleet.uv.plugins.plugin_utils._http import load_requests  # pylint: disable=import-outside-toplevel
        from ansible_collections.pyfleet.uv.plugins.plugin_utils._source import ControllerSource  # pylint: disable=import-outside-toplevel

        try:
            load_requests()
        except UvError:
            raise AnsibleActionFail("pyfleet.uv.uv_mirror_check needs the Python package 'requests' on the controller, "
                                    "in the Python that runs ansible (%s): pip install requests (see the collection's "
                                    "requirements.txt)" % sys.executable)
        version = check_version_option(to_text(args.get("version") or "latest"), allow_specifier=True)
        required = []
        candidates, without = {}, []
        if args.get("targets") is not None:
            known = mc.known_targets()
            required = [to_text(t).strip() for t in args["targets"]]
            unknown = [t for t in required if t not in known]
            if unknown or not required:
                raise AnsibleActionFail("targets must be uv target triples such as x86_64-unknown-linux-gnu; "
                                        "%s. Known: %s" % ("unknown: %s" % ", ".join(unknown) if unknown
                                                           else "the list is empty", ", ".join(known)))
        else:
            hosts = args.get("hosts")
            if hosts is None:
                # The current batch: in a serial play the later batches have not gathered facts yet
                # (run_once runs the task once per batch, so each batch is checked in turn).
                hosts = task_vars.get("ansible_play_batch") or []
            if not hosts:
                raise AnsibleActionFail("no hosts to check: pass hosts (inventory host names) or targets")
            candidates, without = mc.fleet_candidates(task_vars.get("hostvars") or {}, [to_text(h) for h in hosts],
                                                      args["tool"])
        source = ControllerSource(args, args.get("controller_cache_dir"), warn, args["tool"])
        resolved = source.resolve(version)
        if source.kind == "index":
            source.client.resolve(resolved)  # loads the project page for this version (asked once per run)
        checker = mc.SourceChecker(source, resolved, verify=args["verify"],
                                   allow_missing=args["allow_missing_checksum"])
        plan = mc.plan(candidates, checker, required)
        fields, fallbacks, failed = mc.report(plan, resolved, source.describe(), without, verify=args["verify"],
                                              tool=args["tool"])
        for text in fallbacks:
            warn(text)
        fields["failed"] = failed
        return fields
