# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of pyfleet.uv.uv_python.

With ``download_on: host`` (the default), and for ``state: absent``, this only runs the
module. With ``download_on: controller`` the module first plans on the host, offline:
the controller hands it the entries of the downloads JSON that may serve its requests
(read once per run for all forks), and uv on the host says which of them it would take
(its own choice of platform key: libc, micro-architecture). Only if the host needs a
Python does the controller download that archive, once for the whole fleet, into its
sha256-keyed cache (verified against the JSON's sha256), copy it into the task's remote
tmp and run the module again with a local downloads JSON whose entry names the pushed
file below uv's own mirror prefix, with the ``file://`` mirror set to the pushed folder
(uv takes an entry only from below the mirror that applies, and a system uv.toml may set
one): the host reaches nothing. With ``python_install_mirror`` the controller downloads
each entry below GitHub's release folder from that mirror, as uv would. Without a
downloads JSON, the host's uv names the archive below ``python_install_mirror`` (uv 0.8
names it below GitHub's folder; both are compared without user info, since uv prints a
password as ``****``); the controller fetches it from the mirror as given and the host
installs from a ``file://`` mirror in the remote tmp, where uv checks the sha256 built
into it. The remote tmp is always removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils.pythons._python import filter_downloads
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_url
from ansible_collections.pyfleet.uv.plugins.plugin_utils._action import DownloadOnAction

MODULE = "pyfleet.uv.uv_python"


class ActionModule(DownloadOnAction):
    """See the module docstring."""

    def _dispatch(self, result, args, mode, task_vars):
        if mode == "host" or args.get("state", "present") == "absent":
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        else:
            result.update(self._controller(args, task_vars))

    def _controller(self, args, task_vars):
        # Imported here: the cache (and requests, for http sources) stay out of host mode.
        from ansible_collections.pyfleet.uv.plugins.plugin_utils._python_downloads import (  # pylint: disable=import-outside-toplevel
            HOSTED_FOLDER,
            PythonArchive,
            PythonDownloads,
            host_entries,
            json_entry_for,
            mirror_relative_path,
            mirrored_url,
        )
        requests = args.get("version") or []
        if isinstance(requests, str):
            requests = [part.strip() for part in requests.split(",")]
        requests = [str(r) for r in requests]
        json_url = args.pop("python_downloads_json_url", None)
        mirror = args.get("python_install_mirror")
        source = PythonDownloads(args, args.get("controller_cache_dir"), self._display_warning)
        entries = None
        plan_args = dict(args, plan_only=True)
        if json_url and args.get("state", "present") == "present":
            # What is installed decides first, from the host alone: a host with nothing to do costs
            # no request for the downloads JSON.
            plan = self._execute_module(module_name=MODULE, module_args=dict(plan_args, plan_downloads=False),
                                        task_vars=task_vars)
            if plan.get("failed") or "plan" not in plan:
                return plan
        if json_url:
            entries = filter_downloads(source.downloads_json(json_url), requests)
            # The host plans from the entries as it will install them (below uv's mirror prefixes, see
            # host_entries): uv refuses other URLs when the host's uv.toml sets a mirror.
            plan_args["local_downloads"] = host_entries(entries, "/nonexistent")
        plan = self._execute_module(module_name=MODULE, module_args=plan_args, task_vars=task_vars)
        if plan.get("failed") or "plan" not in plan:
            return plan  # a failure, or nothing to do on this host
        needed = [step for step in plan["plan"] if step["action"] == "install"]
        # Per step: the URL the controller downloads (credentials and all) and where it goes on the host.
        sources = []
        for step in needed:
            if entries is not None:
                name, entry = json_entry_for(entries, step["key"])
                if entry is None:
                    raise UvError("the host's uv chose %s, which the downloads JSON %s does not list"
                                  % (step["key"], redact_url(json_url)))
                archive = PythonArchive(entry["url"])  # refuses a file name that leaves the folder
                sources.append((mirrored_url(entry["url"], mirror), entry.get("sha256"),
                                HOSTED_FOLDER + "/" + archive.name, name))
            else:
                relative = mirror_relative_path(step["url"], mirror)
                sources.append((mirrored_url(step["url"], mirror), None, relative, None))
        if self._task.check_mode:
            plan.pop("plan", None)
            plan["download_on"] = "controller"
            plan["downloads"] = [dict(key=step["key"], url=redact_url(url))
                                 for step, (url, _sha, _where, _name) in zip(needed, sources)]
            return plan
        module_args = dict((k, v) for k, v in args.items() if k != "python_install_mirror" or not needed)
        module_args["plan_only"] = False
        for url, expected, where, _name in sources:
            path, _sha256 = source.fetch(url, expected)
            self._push(path, "mirror/" + where)
        mirror_dir = self._connection._shell.join_path(self._connection._shell.tmpdir, "mirror") if needed else None
        if entries is not None:
            # uv reads the entry of every key it installs, even one that only needs its links again
            # (never its URL then); every archive it downloads is a pushed file below the mirror.
            module_args["local_downloads"] = host_entries(entries, mirror_dir or "/nonexistent")
        if needed:
            module_args["local_mirror"] = mirror_dir
        result = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        result["download_on"] = "controller"
        result["downloads"] = source.downloaded
        return result

    def _push(self, path, relative):
        """Copy the cached file ``path`` to ``<remote tmp>/<relative>``; returns the remote path."""
        if not self._connection._shell.tmpdir:
            self._make_tmp_path()
        tmpdir = self._connection._shell.tmpdir
        parts = relative.split("/")
        folders = [self._connection._shell.join_path(tmpdir, *parts[:i]) for i in range(1, len(parts))]
        if folders:
            # as the connection user, like the remote tmp itself (ansible-core makes it with sudoable=False):
            # _transfer_file writes as that user, and _fixup_perms2 then opens the folders to the become user
            made = self._low_level_execute_command("mkdir -p %s" % self._connection._shell.quote(folders[-1]), sudoable=False)
            if made.get("rc") != 0:
                raise UvError("cannot create %s on the host: %s" % (folders[-1], made.get("stderr") or made.get("stdout")))
        remote = self._connection._shell.join_path(tmpdir, *parts)
        self._transfer_file(path, remote)
        self._fixup_perms2([tmpdir] + folders + [remote])
        return remote
