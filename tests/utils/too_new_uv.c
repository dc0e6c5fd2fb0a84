/*
 * Copyright (c) pyfleet.uv contributors
 * GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
 *
 * A stand-in "uv" (or "uvx") for the "build too new for this host" test.
 *
 * Built by tests/utils/uvmirror.py (``too-new``) on a machine with glibc 2.34 or
 * newer, it is linked against __libc_start_main@GLIBC_2.34 like every program built
 * there, so an older glibc's loader refuses to start it ("version `GLIBC_2.34' not
 * found"): exactly what a gnu build made on a too-new machine does on an old host.
 * Where it runs, `--version` prints a uv-like line for the version it was built for.
 */
#include <stdio.h>
#include <string.h>

#ifndef UV_NAME
#error "compile with -DUV_NAME='\"uv\"' (or uvx)"
#endif
#ifndef UV_VERSION
#error "compile with -DUV_VERSION='\"x.y.z\"'"
#endif

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("%s %s (pyfleet test build; needs GLIBC_2.34)\n", UV_NAME, UV_VERSION);
        return 0;
    }
    fprintf(stderr, "%s: pyfleet test build of %s; only --version works\n", UV_NAME, UV_VERSION);
    return 2;
}
