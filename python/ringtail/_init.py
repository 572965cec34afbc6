"""ringtail.init(): options, their RINGTAIL_* variables, and spawned children."""

import json
import os
import sys

from . import _ringtail

# A spawned child (multiprocessing's "spawn" and "forkserver", or any Python
# program the process starts) is a new interpreter: it inherits the parent's
# options through this variable and calls init() with them when it imports
# ringtail. A forked child needs nothing: it keeps the parent's producer and
# gets a segment of its own at its first event, as a C++ child does.
_INHERIT_VARIABLE = "RINGTAIL_PYTHON_INIT"

_OPTION_NAMES = (
    "service",
    "level",
    "ring_bytes",
    "mode",
    "max_threads",
    "max_callsites",
    "max_string_bytes",
    "shm_mode",
    "audit_wait_ms",
    "sample",
    "error_stacks",
)


def _program_name():
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name.endswith(".py"):
        name = name[:-3]
    return name if name and name != "-c" else "python"


def init(
    service=None,
    level=None,
    ring_bytes=None,
    mode=None,
    max_threads=None,
    max_callsites=None,
    max_string_bytes=None,
    shm_mode=None,
    audit_wait_ms=None,
    sample=None,
    hash_key=None,
    error_stacks=None,
    inherit=True,
):
    """Creates this process's segment in /dev/shm.

    Every option left as None comes from its RINGTAIL_* variable (RINGTAIL_SERVICE,
    RINGTAIL_LEVEL, RINGTAIL_RING_BYTES, RINGTAIL_MODE, RINGTAIL_MAX_THREADS,
    RINGTAIL_MAX_CALLSITES, RINGTAIL_MAX_STRING_BYTES, RINGTAIL_SHM_MODE,
    RINGTAIL_AUDIT_WAIT_MS, RINGTAIL_SAMPLE, RINGTAIL_HASH_KEY_FILE,
    RINGTAIL_ERROR_STACKS), then from the C++ defaults. The service defaults to
    the script's name. level: "trace" ... "critical" or "off"; mode: "normal" or
    "flight"; hash_key: bytes; error_stacks: exceptions logged at ERROR and above
    carry their traceback. inherit: spawned Python children call init() with
    these options when they import ringtail.

    Raises ValueError for a bad option and RuntimeError when the segment cannot
    be made (/dev/shm full or not writable, init called twice).
    """
    if service is None and "RINGTAIL_SERVICE" not in os.environ:
        service = _program_name()
    if isinstance(hash_key, str):
        hash_key = hash_key.encode()
    options = dict(
        service=service,
        level=level,
        ring_bytes=ring_bytes,
        mode=mode,
        max_threads=max_threads,
        max_callsites=max_callsites,
        max_string_bytes=max_string_bytes,
        shm_mode=shm_mode,
        audit_wait_ms=audit_wait_ms,
        sample=sample,
        error_stacks=error_stacks,
    )
    _ringtail.init(hash_key=hash_key, **options)
    if inherit:
        # The hash key is never written to the environment: children read
        # RINGTAIL_HASH_KEY_FILE as their parent did.
        given = {k: v for k, v in options.items() if v is not None}
        os.environ[_INHERIT_VARIABLE] = json.dumps({"parent": os.getpid(), "options": given})


def init_inherited():
    """At import: init() with the options a parent process exported, if any."""
    text = os.environ.get(_INHERIT_VARIABLE)
    if not text:
        return
    try:
        inherited = json.loads(text)
        options = {k: v for k, v in inherited.get("options", {}).items() if k in _OPTION_NAMES}
        if inherited.get("parent") == os.getpid():
            return
        _ringtail.init(**options)
    except (ValueError, RuntimeError, TypeError, AttributeError) as e:
        print(f"ringtail: cannot init from {_INHERIT_VARIABLE}: {e}", file=sys.stderr)
