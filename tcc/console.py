"""A quiet console for the command lines: TensorFlow's start-up noise is off unless asked for.

Importing TensorFlow prints a dozen C++ lines (oneDNN, `cudart_stub`, a `cuInit` error on machines
without a GPU) that `TF_CPP_MIN_LOG_LEVEL` does not reach in TensorFlow 2.21: they are written
before TensorFlow sets up its logging. `quiet_tensorflow()` therefore

- sets `TF_CPP_MIN_LOG_LEVEL=2` (C++ info and warnings off, errors kept) unless it is set;
- sends file descriptor 2 to /dev/null while `tensorflow` is imported and its devices are listed
  (whenever that happens: an import hook, so commands that never need TensorFlow stay fast);
- keeps TensorFlow's and Keras' own Python INFO lines out of the `--alsologtostderr` log, both those
  sent through the `tensorflow` logger and those TensorFlow sends through absl's logger (e.g. the
  checkpoint saver's "Sharding callback duration"); their warnings and errors still show.

Every entry point gets it: `python -m tcc.<module>` through `tcc/__init__.py` (Python sets
`sys.argv[0]` to `-m` while it imports the package of the module to run) and the `tcc-*` console
scripts through `tcc.console_scripts`. Library imports (`import tcc` in a notebook) are untouched.
`TCC_TF_VERBOSE=1` brings all of it back.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator

VERBOSE_ENV = "TCC_TF_VERBOSE"


def verbose() -> bool:
    """True when `TCC_TF_VERBOSE` asks for TensorFlow's own start-up lines."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def stderr_silenced() -> Iterator[None]:
    """Redirects file descriptor 2 (C++ and Python writes to stderr) to /dev/null."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's `__init__` (and its first device listing) with stderr silenced."""

    def __init__(self, loader: importlib.abc.Loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__spec__.loader = module.__loader__ = self._loader
        with stderr_silenced():
            self._loader.exec_module(module)
            module.config.list_physical_devices()  # the CUDA probe prints its cuInit error here

    def __getattr__(self, name: str):
        return getattr(self._loader, name)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` with the other finders and wraps its loader in `_QuietLoader`."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once; and no recursion into find_spec below
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


_LIBRARY_DIRS = tuple(f"{os.sep}{name}{os.sep}" for name in ("tensorflow", "keras", "tf_keras"))


class LibraryInfoFilter(logging.Filter):
    """Drops INFO and DEBUG records logged from TensorFlow's or Keras' own source files."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(d in record.pathname for d in _LIBRARY_DIRS)


def quiet_tensorflow() -> None:
    """Silences TensorFlow's start-up lines for this process (see the module doc)."""
    if verbose():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.WARNING)
    from absl import logging as absl_logging  # noqa: PLC0415 (its logger class must come first)

    absl_logger = absl_logging.get_absl_logger()
    if not any(isinstance(f, LibraryInfoFilter) for f in absl_logger.filters):
        absl_logger.addFilter(LibraryInfoFilter())
    if "tensorflow" in sys.modules or any(
        isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path
    ):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())
