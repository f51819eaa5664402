"""`helm lint` through helm-sdkpy's Go library (Helm v4) via cffi, for berth's Helm tests.

usage: sdkpy_lint.py HELM_SDKPY_DIR CHART_DIR...   -> one JSON object per chart, one per line:
    {"chart": DIR, "version": "...", "errors": N, "paths": [...]} or {"chart": DIR, "error": "..."}

Runs in a process of its own: helm-python-sdk carries a second Go runtime, and two c-shared Go
runtimes must not share a process. helm-sdkpy's Python package wants Python >= 3.12, so this
loads the library directly with the C declarations from the wheel's _ffi.py. Its lint result
drops message texts (Go errors marshal to {}): only severities and paths are usable.
"""
import json
import os
import re
import sys

from cffi import FFI

ERROR = 3


def main():
    lib_dir, charts = sys.argv[1], sys.argv[2:]
    with open(os.path.join(lib_dir, "_ffi.py")) as f:
        cdef = re.search(r'ffi\.cdef\(\s*"""(.*?)"""', f.read(), re.S).group(1)
    ffi = FFI()
    ffi.cdef(cdef)
    lib = ffi.dlopen(os.path.join(lib_dir, "libhelm_sdkpy.so"))
    version = ffi.string(lib.helm_sdkpy_version_string()).decode()

    def last_error():
        err = lib.helm_sdkpy_last_error()
        return ffi.string(err).decode() if err != ffi.NULL else "unknown error"

    handle = ffi.new("helm_sdkpy_handle *")
    if lib.helm_sdkpy_config_create(b"default", ffi.NULL, ffi.NULL, b"{}", handle) != 0:
        for chart in charts:
            print(json.dumps({"chart": chart, "error": "config_create: " + last_error()}))
        return
    for chart in charts:
        out = ffi.new("char **")
        if lib.helm_sdkpy_lint(handle[0], os.path.abspath(chart).encode(), out) != 0:
            print(json.dumps({"chart": chart, "error": last_error()}))
            continue
        result = json.loads(ffi.string(out[0]).decode()) or {}
        lib.helm_sdkpy_free(out[0])
        errors = [m for m in result.get("Messages") or [] if m.get("Severity", 0) >= ERROR]
        print(json.dumps({"chart": chart, "version": version, "errors": len(errors), "paths": [m.get("Path") for m in errors]}))
    lib.helm_sdkpy_config_destroy(handle[0])


if __name__ == "__main__":
    main()
