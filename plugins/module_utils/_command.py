# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way this collection runs commands on a host.

PRIVATE API: only for this collection's modules; names may change without notice.
Helpers take a ``run(argv) -> (rc, text)`` callable instead of starting processes
themselves, so they stay pure and testable; ``module_runner`` makes one from
``AnsibleModule.run_command``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

__all__ = ["module_runner"]


def module_runner(module):
    """A ``run(argv)`` that returns ``(rc, stdout and stderr joined)``.

    ``rc`` is ``None`` when the program could not be started at all (missing, not
    executable, wrong format); the text then says why. Never raises, never fails the
    module: a probe that cannot run is an answer, not an error.
    """
    def run(argv):
        try:
            rc, out, err = module.run_command(
                list(argv),
                environ_update=dict(LC_ALL="C", LANG="C"),
                errors="surrogate_then_replace",
                handle_exceptions=False,
            )
        except (IOError, OSError) as exc:
            return None, "%s: %s" % (argv[0], exc.strerror or exc)
        return rc, "\n".join(part for part in (out.strip(), err.strip()) if part)
    return run
