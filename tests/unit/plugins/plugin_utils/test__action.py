# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The frame of the download_on action plugins: the mode check, failures, the remote tmp, warnings.

The action plugins are real ansible ``ActionBase`` subclasses; what ansible would hand them
(the task, the connection's shell) is the smallest stand-in that ``ActionBase.run`` reads.
"""

from __future__ import annotations

import gc
import multiprocessing
import types

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.pyfleet.uv.plugins.action import ruff_install, ty_install, uv_install, uv_python
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.plugin_utils._action import DownloadOnAction, freeze_worker_heap


class Recorder(DownloadOnAction):
    """Records what ``_dispatch`` got; ``behaviour`` says what it then does."""

    def __init__(self, args, behaviour, tmpdir=None):
        task = types.SimpleNamespace(args=args, async_val=0, check_mode=False, action="pyfleet.uv.test")
        connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir=tmpdir))
        super().__init__(task, connection, None, None, None, None)
        self.behaviour = behaviour
        self.seen = []
        self.removed = []

    def _dispatch(self, result, args, mode, task_vars):
        self.seen.append((dict(args), mode, task_vars))
        self.behaviour(self, result, args)

    def _remove_tmp_path(self, tmp_path, force=False):
        self.removed.append(tmp_path)
        self._connection._shell.tmpdir = None


def _ok(action, result, args):
    args["version"] = "changed"  # the task's own arguments must stay as they were
    result.update(changed=True, msg="done")


def _warn_then_fail(action, result, args):
    action._display_warning("the controller saw a yanked release")
    result["resolved_version"] = "0.13.8"
    action._connection._shell.tmpdir = "/remote/tmp/pushed"
    raise UvError("the download failed: HTTP 503")


@pytest.mark.parametrize("given, mode", [
    ({}, "host"), ({"download_on": None}, "host"),
    ({"download_on": "host"}, "host"), ({"download_on": "controller"}, "controller"),
])
def test_the_mode_and_a_copy_of_the_arguments_reach_dispatch(given, mode):
    args = dict(given, version="0.13.8")
    action = Recorder(args, _ok)
    result = action.run(task_vars={"inventory_hostname": "h1"})
    assert result == {"changed": True, "msg": "done"}
    assert action.seen == [(args, mode, {"inventory_hostname": "h1"})]
    assert args["version"] == "0.13.8"
    assert action.removed == []  # nothing was pushed, so there is no remote tmp to remove


@pytest.mark.parametrize("mode", ["Host", "both", "none", 1])
def test_an_unknown_mode_is_refused_before_dispatch(mode):
    action = Recorder({"download_on": mode}, _ok)
    with pytest.raises(AnsibleActionFail, match=r"download_on must be host or controller, got %r" % (mode,)):
        action.run(task_vars={})
    assert action.seen == []


def test_a_uv_error_fails_the_task_keeps_what_was_learnt_and_removes_the_remote_tmp():
    action = Recorder({"download_on": "controller"}, _warn_then_fail)
    result = action.run(task_vars={})
    assert result["failed"] is True
    assert result["msg"] == "the download failed: HTTP 503"
    assert result["resolved_version"] == "0.13.8"
    assert result["warnings"] == ["the controller saw a yanked release"]
    assert action.removed == ["/remote/tmp/pushed"]


def test_any_other_error_still_removes_the_remote_tmp():
    def boom(action, result, args):
        action._connection._shell.tmpdir = "/remote/tmp/x"
        raise RuntimeError("unexpected")

    action = Recorder({}, boom)
    with pytest.raises(RuntimeError, match="unexpected"):
        action.run(task_vars={})
    assert action.removed == ["/remote/tmp/x"]


def test_every_download_on_action_plugin_uses_the_frame():
    for plugin in (uv_install, ruff_install, ty_install, uv_python):
        assert issubclass(plugin.ActionModule, DownloadOnAction)
        assert "run" not in vars(plugin.ActionModule)
    assert DownloadOnAction.TRANSFERS_FILES is False


def _freeze_in_child(queue):
    before = gc.get_freeze_count()
    freeze_worker_heap()
    queue.put((before, gc.get_freeze_count()))


def test_the_heap_is_frozen_in_a_forked_worker_only():
    """As ansible's workers are: forked for one task; the process that forks them is left alone."""
    before = gc.get_freeze_count()
    freeze_worker_heap()
    assert gc.get_freeze_count() == before
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_freeze_in_child, args=(queue,))
    child.start()
    child_before, child_after = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    assert child_before == before
    assert child_after > child_before + 1000  # the inherited heap: pytest's, ansible's, the collection's


def test_warnings_after_a_module_result_go_through_the_display_on_new_cores(monkeypatch):
    """ansible-core 2.19+: ``_execute_module`` leaves ``warnings: []`` in the result (its warnings are in the task's
    warning context); a text appended there broke the default callback, so the display takes ours."""
    from ansible_collections.pyfleet.uv.plugins.plugin_utils import _action  # pylint: disable=import-outside-toplevel
    shown = []
    monkeypatch.setattr(_action.display, "warning", lambda text, *a, **k: shown.append(text))

    def module_then_warn(action, result, args):
        result.update(changed=False, warnings=[])  # what a module's round-trip result holds on 2.19+
        action._display_warning("the cached file was dropped")

    result = Recorder({}, module_then_warn).run(task_vars={})
    if _action._WARNING_CONTEXT:  # pylint: disable=protected-access
        assert shown == ["the cached file was dropped"] and result["warnings"] == []
    else:
        assert shown == [] and result["warnings"] == ["the cached file was dropped"]
