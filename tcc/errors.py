"""The one error path for users: `error: <what is wrong>, <where>, <how to fix>` and exit status 1.

Every command line (`tcc.train`, `tcc.evaluate`, `tcc.extract_embeddings`, `tcc.experiments`,
`tcc.datasets.convert`, `tcc.datasets.penn_action`, the apps) runs its main function through
`run_main`, which turns a *user* error into one line on stderr and exit status 1, without a
traceback. A user error is something the user can fix: a `UserError` (bad config value, unknown
name, bad or missing data, missing or corrupt checkpoint), a file that is missing, unreadable or
unwritable (`OSError`), or a TensorFlow read error on a truncated / corrupt file. Anything else is a
programming error and keeps its traceback. `TCC_DEBUG=1` shows the traceback of user errors too.

Library code raises `UserError` (or one of the subclasses below, which also are the built-in
exception the caller may already catch, e.g. `UnknownNameError` is a `KeyError`); it never prints
or exits.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence

DEBUG_ENV = "TCC_DEBUG"


class UserError(Exception):
    """A problem the user can fix; the message says what is wrong, where, and how to fix it."""

    def __str__(self) -> str:  # KeyError subclasses would otherwise print the repr
        return str(self.args[0]) if self.args else ""


class UnknownNameError(UserError, KeyError):
    """An unknown name (dataset, algorithm, task, split, config key, flag, ...)."""


class BadValueError(UserError, ValueError):
    """A config or flag value out of range or of the wrong kind."""


class DataError(UserError, ValueError):
    """Data that is missing, corrupt or does not fit the config; names the file or video."""


class MissingDataError(UserError, FileNotFoundError):
    """Data (records, a split, a dataset) that is not where the config says; names what exists."""


class CheckpointError(UserError, ValueError):
    """A checkpoint that is missing, truncated or does not fit the model; names the path."""


def did_you_mean(name: str, valid: Iterable[str], n: int = 3) -> str:
    """' (did you mean a, b?)' for the closest of `valid` to `name`, or '' if none is close."""
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=n, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def unknown_name(kind: str, name: str, valid: Sequence[str], where: str = "") -> UnknownNameError:
    """An `UnknownNameError` naming the closest valid names and all of them (when few)."""
    listed = f"; valid: {', '.join(valid)}" if len(valid) <= 12 else ""
    at = f", in {where}" if where else ""
    return UnknownNameError(f"unknown {kind} {name!r}{did_you_mean(name, valid)}{at}{listed}")


_FILE_ERRNOS = {
    errno.ENOENT: "does not exist; check the path",
    errno.EACCES: "is not writable / readable (permission denied); pick another path or fix its "
    "permissions",
    errno.EPERM: "is not permitted (permission denied); pick another path or fix its permissions",
    errno.EROFS: "is on a read-only file system; pick a writable path",
    errno.ENOSPC: "cannot be written: the disk is full; free space or pick another path",
    errno.EDQUOT: "cannot be written: the disk quota is exceeded; free space or pick another path",
    errno.ENOTDIR: "has a file where a folder is expected; check the path",
    errno.EISDIR: "is a folder where a file is expected; check the path",
    errno.EEXIST: "already exists as a file where a folder is expected; pick another path",
}


def _tf_error_message(error: BaseException) -> str | None:
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(error, tf.errors.OpError):
        return None
    text = " ".join(str(error.message).split("\n")[0].split())[:300]
    if isinstance(error, tf.errors.DataLossError):
        return (
            f"a file is truncated or corrupt ({text}); re-create it (records: `python -m "
            "tcc.datasets.convert --verify=<records>/<dataset>` names the bad file)"
        )
    if isinstance(error, tf.errors.NotFoundError):
        return f"a file was not found ({text}); check the path"
    if isinstance(error, tf.errors.PermissionDeniedError):
        return f"permission denied ({text}); pick a writable path or fix its permissions"
    if isinstance(error, tf.errors.ResourceExhaustedError) and "space" in text.lower():
        return f"the disk is full ({text}); free space or pick another path"
    return None


def user_message(error: BaseException) -> str | None:
    """The one-line message for a user error, or None for a programming error."""
    if isinstance(error, UserError):
        return " ".join(str(error).split())
    if isinstance(error, FileNotFoundError) and error.errno is None:  # raised with a message
        return " ".join(str(error).split())
    if isinstance(error, OSError) and error.errno in _FILE_ERRNOS:
        where = error.filename if error.filename is not None else ""
        if not where:
            return " ".join(str(error).split())
        return f"{where} {_FILE_ERRNOS[error.errno]} ({error.strerror})"
    return _tf_error_message(error)


@contextlib.contextmanager
def reading_checkpoint(path: str) -> Iterator[None]:
    """Turns a failure to read the checkpoint `path` into a `CheckpointError` naming it.

    TensorFlow reports a truncated checkpoint as `IndexError: Read less bytes than requested` or
    `DataLossError`, a missing one as `NotFoundError`, and one of another model as a failed
    assertion; none of them names the path.
    """
    tf = sys.modules.get("tensorflow")
    tf_errors = (tf.errors.OpError,) if tf is not None else ()
    try:
        yield
    except UserError:
        raise
    except (IndexError, AssertionError, ValueError, *tf_errors) as e:
        text = " ".join(str(e).split("\n")[0].split())[:200]
        if not os.path.exists(f"{path}.index"):
            what, fix = "does not exist", "pass an existing checkpoint (ls <logdir>/checkpoints)"
        elif isinstance(e, AssertionError):
            what = "does not fit the model of this config"
            fix = "use the config the checkpoint was trained with"
        else:
            what = "cannot be read: truncated or corrupt"
            fix = "delete its ckpt-N.* files to fall back to the previous checkpoint"
        raise CheckpointError(
            f"checkpoint {path} {what} ({type(e).__name__}: {text}); {fix}"
        ) from e


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGINT) received inside `interrupt_on_signals`; `signum` says which."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


@contextlib.contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Raises `Interrupted` on SIGTERM and SIGINT, so that SIGTERM cleans up like Ctrl-C.

    Outside the main thread (where signals cannot be caught) this does nothing.
    """
    import signal  # noqa: PLC0415

    def handle(signum, frame):
        del frame
        raise Interrupted(signum)

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handle)
        except ValueError:  # not the main thread
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def debug() -> bool:
    """True when `TCC_DEBUG` asks for tracebacks of user errors."""
    return os.environ.get(DEBUG_ENV, "").lower() not in ("", "0", "false", "no")


def fail(message: str, status: int = 1) -> None:
    """Prints `error: <message>` (one line) on stderr and exits with `status`."""
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
    raise SystemExit(status)


def run_main(main: Callable[..., object], *args, **kwargs) -> object:
    """Calls `main(*args, **kwargs)`; a user error becomes one `error:` line and exit status 1.

    Programming errors propagate with their traceback; with `TCC_DEBUG=1`, user errors too.
    """
    try:
        return main(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - classified below, re-raised unless a user error
        message = user_message(e)
        if message is None or debug():
            raise
        fail(message)
    return None


def wrap(main: Callable[..., object]) -> Callable[..., object]:
    """`main` run through `run_main` (for `absl.app.run(wrap(main))`)."""

    def wrapped(*args, **kwargs):
        return run_main(main, *args, **kwargs)

    wrapped.__doc__ = main.__doc__
    wrapped.__wrapped__ = main
    return wrapped
