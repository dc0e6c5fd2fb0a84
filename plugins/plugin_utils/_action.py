# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The frame every ``download_on`` action plugin of this collection shares.

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
``DownloadOnAction.run`` checks ``download_on``, hands the result and the task's
arguments to the subclass's ``_dispatch``, turns a ``UvError`` into the task's failure with its message,
always removes the remote tmp (made only when a file was pushed), and adds the warnings
the controller side collected with ``_display_warning`` to the result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError

DOWNLOAD_ON = ("host", "controller")


class DownloadOnAction(ActionBase):
    """Base of the action plugins whose module takes ``download_on`` (see the module docstring)."""

    TRANSFERS_FILES = False  # a tmp dir is made only when a file is pushed

    def run(self, tmp=None, task_vars=None):
        result = super(DownloadOnAction, self).run(tmp, task_vars)
        del tmp
        self._warnings = []
        args = dict(self._task.args)
        mode = args.get("download_on") or "host"
        try:
            if mode not in DOWNLOAD_ON:
                raise AnsibleActionFail("download_on must be host or controller, got %r" % mode)
            self._dispatch(result, args, mode, task_vars)
        except UvError as exc:
            result.update(failed=True, msg=exc.msg)
        finally:
            if self._connection._shell.tmpdir:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        if self._warnings:  # what the controller side said (a yanked pin, an unverified file)
            result.setdefault("warnings", []).extend(self._warnings)
        return result

    def _dispatch(self, result, args, mode, task_vars):
        """Fill ``result`` (kept, with what it holds so far, if a ``UvError`` is raised) for ``args``
        (a copy of the task's arguments) in ``mode``."""
        raise NotImplementedError

    def _display_warning(self, text):
        self._warnings.append(text)
