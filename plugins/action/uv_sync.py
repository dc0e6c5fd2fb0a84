# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of pyfleet.uv.uv_sync.

With ``project_src``, the project's files (``_sync.project_files``: no ``.git``, ``.venv``, caches
or build output) go to the host as one tar archive in the task's remote tmp, as ansible-core's
``copy`` sends a file (``_transfer_file``, ``_fixup_perms2``, the tmp removed in a ``finally``);
the module unpacks it into its own temporary directory (``project_archive``). With
``project_dir`` the project is already on the host and nothing is sent.

``download_on: controller`` is the hook for the air-gapped mode (``_controller``): the
controller-side library ``plugins/plugin_utils/_uv_lock.py`` chooses and downloads the wheels a
host needs; this plugin pushes them into ``<remote tmp>/wheelhouse/`` and passes that directory
to the module as ``wheelhouse_dir``, where the module installs with no index at all. Until that
library is part of the collection, the task fails saying so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tarfile
import tempfile

from ansible.errors import AnsibleError

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._sync import project_files
from ansible_collections.pyfleet.uv.plugins.plugin_utils._action import DownloadOnAction

MODULE = "pyfleet.uv.uv_sync"
ARCHIVE = "project.tar.gz"


def pack_project(top, archive):
    """Write the project's files below ``top`` into the gzip tar ``archive`` (regular files only, with
    their folders; owners dropped). Returns the number of files."""
    count = 0
    with tarfile.open(archive, "w:gz") as tar:
        for rel in project_files(top):
            full = os.path.join(top, rel)
            if os.path.islink(full) and not os.path.exists(full):
                raise UvError("%s is a broken symbolic link in project_src %s" % (rel, top))
            if os.path.isdir(full):
                continue  # a link to a folder: its files are not part of the project
            info = tar.gettarinfo(os.path.realpath(full), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(full, "rb") as handle:
                tar.addfile(info, handle)
            count += 1
    return count


class ActionModule(DownloadOnAction):
    """See the module docstring."""

    def _dispatch(self, result, args, mode, task_vars):
        if args.get("project_src") and args.get("project_dir"):
            raise UvError("project_src and project_dir are mutually exclusive: give one")
        self._pushed = 0
        scratch = tempfile.mkdtemp(prefix="uv-sync-")
        try:
            if args.get("project_src"):
                args["project_archive"] = self._send_project(args, scratch)
            if mode == "controller":
                self._controller(result, args, task_vars)
                if result.get("failed"):
                    return
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            if mode == "controller" and isinstance(result.get("wheelhouse"), dict):
                result["wheelhouse"]["files_pushed"] = self._pushed
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _source_dir(self, given):
        try:
            found = self._find_needle("files", given)
        except AnsibleError as exc:
            raise UvError("project_src %s was not found on the controller: %s" % (given, exc))
        if not os.path.isdir(found):
            raise UvError("project_src %s is not a directory on the controller (give the project's folder, "
                          "which holds pyproject.toml and uv.lock)" % found)
        return found

    def _send_project(self, args, scratch):
        """Pack ``project_src`` and copy it into the remote tmp; returns the archive's path on the host."""
        top = self._source_dir(args["project_src"])
        args["project_src"] = top
        for needed in ("pyproject.toml", "uv.lock"):
            if not os.path.isfile(os.path.join(top, needed)):
                hint = " (run `uv lock` in the project)" if needed == "uv.lock" else ""
                raise UvError("project_src %s has no %s%s; the host was not changed" % (top, needed, hint))
        local = os.path.join(scratch, ARCHIVE)
        pack_project(top, local)
        return self._push(local, ARCHIVE)

    def _push(self, local, relative):
        if not self._connection._shell.tmpdir:
            self._make_tmp_path()
        shell = self._connection._shell
        tmpdir = shell.tmpdir
        folders = [shell.join_path(tmpdir, *relative.split("/")[:-1])] if "/" in relative else []
        if folders:
            made = self._low_level_execute_command("mkdir -p %s" % shell.quote(folders[0]))
            if made.get("rc") != 0:
                raise UvError("cannot create %s on the host: %s" % (folders[0], made.get("stderr") or made.get("stdout")))
        remote = shell.join_path(tmpdir, *relative.split("/"))
        self._transfer_file(local, remote)
        self._fixup_perms2([tmpdir] + folders + [remote])
        return remote

    def _controller(self, result, args, task_vars):
        """The hook of ``download_on: controller`` (see the module docstring)."""
        try:
            from ansible_collections.pyfleet.uv.plugins.plugin_utils import _uv_lock  # pylint: disable=import-outside-toplevel
        except ImportError:
            _uv_lock = None
        if _uv_lock is None or not hasattr(_uv_lock, "host_wheelhouse"):
            raise UvError("download_on=controller is not yet available in this release of pyfleet.uv (the "
                          "controller side that reads uv.lock and downloads its wheels is still being built): use "
                          "download_on=host, with index_url naming an index the hosts can reach")
        if not args.get("project_src"):
            raise UvError("download_on=controller needs project_src: the controller reads the lock")
        # The library's contract: {"files": [path, or (path, wheel file name)], "missing_wheels": [...], "msg": ...};
        # each file already checked against the lock's sha256 on the controller.
        plan = _uv_lock.host_wheelhouse(project_dir=args["project_src"], task_vars=task_vars, args=args,
                                        warn=self._display_warning)
        if plan.get("missing_wheels"):
            result.update(failed=True, missing_wheels=plan["missing_wheels"],
                          msg=plan.get("msg") or "some locked packages have no wheel for this host")
            return
        if self._task.check_mode:
            args["wheelhouse_dir"] = "/nonexistent"  # the module plans only; nothing is pushed in check mode
        else:
            for item in plan["files"]:  # a path named as the wheel, or (cached path, wheel file name)
                path, name = item if isinstance(item, (list, tuple)) else (item, os.path.basename(item))
                self._push(path, "wheelhouse/" + name)
            self._pushed = len(plan["files"])
            if not self._connection._shell.tmpdir:
                self._make_tmp_path()
            args["wheelhouse_dir"] = self._connection._shell.join_path(self._connection._shell.tmpdir, "wheelhouse")
