# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of pyfleet.uv.uv_install (and of ruff_install and ty_install, which set ``TOOL``).

With ``download_on: host`` (the default) this only resolves a version specifier (once
per run, on the controller) and hands over to the module: a pinned no-op stays one
module run and no request. With ``download_on: controller`` the module first plans
from the host alone; only if the host needs an install does the controller locate the
best candidate's artifact, download it once into its cache (shared by all forks and
runs, verified before each use), copy it into the task's remote tmp with Ansible's
own file transfer, and run the module with ``src``; if that build does not run on the
host, the next candidate is pushed. The remote tmp is always removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import get_tool
from ansible_collections.pyfleet.uv.plugins.plugin_utils._action import DownloadOnAction

# ``latest`` and X.Y.Z (version_options._EXACT_RE) go to the module as they are. Only another value
# (a specifier set, or a mistake) needs version_options.check_version_option here: ansible's
# collection loader compiles collection code from source on every run (no bytecode cache), so the
# common call does not import it.
_PLAIN_VERSION = re.compile(r"^(latest|\d+\.\d+\.\d+)$")
_SOURCE_ONLY = ("mirror_url", "index_url", "checksum", "allow_missing_checksum", "url_username", "url_password",
                "force_basic_auth", "headers", "validate_certs", "ca_path", "use_proxy", "client_cert",
                "client_key", "http_agent", "timeout", "download_retries")


# What a host never needs with download_on=controller: the source's credentials stay on the controller.
_CREDENTIALS = ("url_username", "url_password", "headers", "client_cert", "client_key")


def host_args(args):
    """The task's arguments as a host gets them with download_on=controller: no credentials, and the
    source URLs (which only name the source in messages there) without user info or query values."""
    sent = dict((k, v) for k, v in args.items() if k not in _CREDENTIALS)
    for name in ("mirror_url", "index_url"):
        if sent.get(name):
            sent[name] = redact_url(sent[name])
    checksum = sent.get("checksum")
    if checksum and "://" in checksum:
        prefix, _colon, url = checksum.partition(":")
        sent["checksum"] = "%s:%s" % (prefix, redact_url(url))
    return sent


class ActionModule(DownloadOnAction):
    """See the module docstring."""

    TOOL = "uv"  # the row of tools.TOOLS this action installs; its module is tools.Tool.module

    @property
    def _module(self):
        return get_tool(self.TOOL).module

    def _dispatch(self, result, args, mode, task_vars):
        version = to_text(args.get("version") or "latest").strip()
        specifier = not _PLAIN_VERSION.match(version)
        if specifier:
            from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import check_version_option  # pylint: disable=import-outside-toplevel
            # A specifier set, or the module's own refusal.
            check_version_option(version, allow_specifier=True, module=self._module)
        source = None
        if specifier or (mode == "controller" and version == "latest"
                         and args.get("state", "present") == "present" and not args.get("src")):
            source = self._source(args)
            args["version"] = source.resolve(version)
            result["resolved_version"] = args["version"]
        if mode == "host":
            result.update(self._execute_module(module_name=self._module, module_args=args, task_vars=task_vars))
        elif args.get("src") or args.get("state") == "absent":
            result.update(self._execute_module(module_name=self._module, module_args=host_args(args),
                                               task_vars=task_vars))
        else:
            result.update(self._controller(args, source, task_vars))

    def _source(self, args):
        # Imported here: requests (needed only on these paths) and the cache stay out of host mode.
        from ansible_collections.pyfleet.uv.plugins.plugin_utils._source import ControllerSource  # pylint: disable=import-outside-toplevel
        return ControllerSource(args, args.get("controller_cache_dir"), self._display_warning, self.TOOL)

    def _controller(self, args, source, task_vars):
        """download_on=controller: plan on the host, fetch on the controller, install from the pushed file."""
        plan = self._execute_module(module_name=self._module, module_args=dict(host_args(args), plan_only=True),
                                    task_vars=task_vars)
        if plan.get("failed") or "plan" not in plan:
            return plan  # a failure, or nothing to do on this host
        # Made only now (about 0.1 s a fork: requests, the cache): a host with nothing to do needs none.
        source = source or self._source(args)
        candidates = plan["plan"]["candidates"]
        version = args["version"]
        if version == "latest" and not args.get("force"):
            current = self._latest_is_current(plan, source)
            if current:
                return current
        located = source.locate(version, candidates)
        if self._task.check_mode:
            return self._checked(plan, source, located)
        module_args = dict((k, v) for k, v in args.items() if k not in _SOURCE_ONLY)
        last = None
        for artifact, expected in located:
            path, sha256 = source.fetch(artifact, expected)
            if path is None:
                continue
            if not self._connection._shell.tmpdir:
                self._make_tmp_path()
            remote = self._connection._shell.join_path(self._connection._shell.tmpdir, artifact.name)
            self._transfer_file(path, remote)
            self._fixup_perms2((self._connection._shell.tmpdir, remote))
            module_args.update(src=remote, checksum="sha256:%s" % sha256, version=version,
                               src_origin=dict(source=artifact.source, url=artifact.as_dict()["url"],
                                               name=artifact.name))
            last = self._execute_module(module_name=self._module, module_args=module_args, task_vars=task_vars)
            last["candidates"] = self._report(last, source)
            if last.get("runs_here") is False:
                source.notes.add(artifact.target, "served; %s" % _reason(last, artifact.target))
                continue
            break
        if last is None:
            return dict(plan, failed=True, changed=False, candidates=self._report(plan, source),
                        msg=_nothing_installed(source, candidates))
        last["download_on"] = "controller"
        return last

    def _latest_is_current(self, plan, source):
        """For ``latest`` on a release mirror: the no-op result if the receipt matches the mirror's latest."""
        installed, receipt = plan["plan"].get("installed"), plan["plan"].get("receipt")
        if not installed or not receipt:
            return None
        if source.client.latest_is_current(installed, receipt, plan["plan"]["candidates"]) is not True:
            return None
        result = dict(plan, changed=False, version=installed["version"], target=receipt.get("target"),
                      artifact=receipt.get("artifact"), url=receipt.get("url"), sha256=receipt.get("sha256"),
                      source=receipt.get("source"), download_on="controller",
                      msg="%s %s is the latest the %s serves (checked on the controller); nothing to do" % (
                          self.TOOL, installed["version"], source.describe()))
        result.pop("plan", None)
        result.pop("diff", None)
        return result

    def _checked(self, plan, source, located):
        """Check mode: the artifact the host would get, located but not downloaded."""
        plan = dict(plan)
        for artifact, expected in located:
            plan.update(target=artifact.target, artifact=artifact.name, url=artifact.as_dict()["url"],
                        sha256=expected or None, source=artifact.source, download_on="controller")
            plan["msg"] = "%s; the controller would push %s" % (plan.get("msg", ""), artifact.name)
            break
        else:
            plan.update(failed=True, msg=_nothing_installed(source, plan["plan"]["candidates"]))
        plan["candidates"] = self._report(plan, source)
        plan.pop("plan", None)
        return plan

    @staticmethod
    def _report(result, source):
        report = []
        for item in result.get("candidates") or []:
            notes = source.notes.get(item["target"])
            if notes and item["decision"] != "taken":
                item = dict(item, decision="passed over", reason="; ".join([item["reason"]] + notes))
            report.append(item)
        return report


def _nothing_installed(source, candidates):
    """The host's own message when no candidate could be installed."""
    # Imported here: the host's artifact code (tarfile, zipfile, threads) stays out of host mode.
    from ansible_collections.pyfleet.uv.plugins.module_utils.install._artifacts import nothing_installed  # pylint: disable=import-outside-toplevel
    return nothing_installed(source.notes, candidates, source.describe(), source.tried()).msg


def _reason(result, target):
    for item in result.get("candidates") or []:
        if item.get("target") == target:
            return item.get("reason", "").split("; served; ", 1)[-1]
    return result.get("msg", "")
