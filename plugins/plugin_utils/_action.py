# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The frame every ``download_on`` action plugin of this collection shares.

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
``DownloadOnAction.run`` freezes the heap the worker inherited (see
``freeze_worker_heap``), checks ``download_on``, hands the result and the task's
arguments to the subclass's ``_dispatch``, turns a ``UvError`` into the task's failure with its message,
always removes the remote tmp (made only when a file was pushed), and adds the warnings
the controller side collected with ``_display_warning`` to the result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
import multiprocessing

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as ansible_version
from ansible.utils.display import Display

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError

DOWNLOAD_ON = ("host", "controller")
display = Display()
# ansible-core 2.19 and later keep a task's warnings in a context of their own (see ``run``).
_WARNING_CONTEXT = tuple(int(part) for part in ansible_version.split(".")[:2]) >= (2, 19)


def freeze_worker_heap():
    """Leave the heap this worker inherited out of its garbage collections (``gc.freeze``).

    Ansible runs an action plugin in a worker forked for this one task and host, which
    exits after it. The worker inherits the whole controller's heap (inventory, play,
    templates, loaded plugins: some 50,000 objects for one ad hoc task), and each full collection
    walks all of it. Building the module's payload (ansible's dependency finder compiles
    every module_util the module can reach to an AST, about 250 KB of source for
    uv_install) allocates enough to set off several, about a third of that build's time.
    Frozen objects are never collected; what the worker inherited lives until it exits
    anyway. Only in a forked worker: never in the process that forked it (or a test's).
    """
    if multiprocessing.parent_process() is not None:
        gc.freeze()


class DownloadOnAction(ActionBase):
    """Base of the action plugins whose module takes ``download_on`` (see the module docstring)."""

    TRANSFERS_FILES = False  # a tmp dir is made only when a file is pushed

    def run(self, tmp=None, task_vars=None):
        freeze_worker_heap()
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
            if _WARNING_CONTEXT and "warnings" in result:
                # ansible-core 2.19+: a module's result (``_execute_module``) leaves its warnings with the task's
                # warning context and an empty list here; a text added to that list breaks the callbacks
                # ("'str' object has no attribute 'event'"), so ours go to the same context.
                for text in self._warnings:
                    display.warning(text)
            else:
                result.setdefault("warnings", []).extend(self._warnings)
        return result

    def _dispatch(self, result, args, mode, task_vars):
        """Fill ``result`` (kept, with what it holds so far, if a ``UvError`` is raised) for ``args``
        (a copy of the task's arguments) in ``mode``."""
        raise NotImplementedError

    def _display_warning(self, text):
        self._warnings.append(text)
