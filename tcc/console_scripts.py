"""The `tcc-*` commands that `pip install` puts on the PATH (setup.py `console_scripts`).

Each runs the same command line as `python -m <module>` (which keeps working), with TensorFlow's
start-up lines hidden (`tcc.console`), the module's docstring as the `--help` text, and exit
status 0 on success.

  tcc-train               python -m tcc.train
  tcc-evaluate            python -m tcc.evaluate
  tcc-convert             python -m tcc.datasets.convert
  tcc-extract-embeddings  python -m tcc.extract_embeddings
  tcc-align               python -m tcc.apps.align
  tcc-transfer            python -m tcc.apps.transfer
  tcc-retrieve            python -m tcc.apps.retrieve
  tcc-anomaly             python -m tcc.apps.anomaly
  tcc-progress            python -m tcc.apps.progress (where that app exists)
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from tcc.console import quiet_tensorflow


def _load(module_name: str) -> ModuleType:
    """Imports a command's module after quieting TensorFlow; its docstring becomes the usage."""
    quiet_tensorflow()
    module = importlib.import_module(module_name)
    sys.modules["__main__"].__doc__ = module.__doc__
    return module


def train() -> None:
    """`tcc-train`: trains a run (`python -m tcc.train`)."""
    _load("tcc.train").run()


def evaluate() -> None:
    """`tcc-evaluate`: evaluates a run's checkpoints (`python -m tcc.evaluate`)."""
    _load("tcc.evaluate").run()


def extract_embeddings() -> None:
    """`tcc-extract-embeddings`: embeds a split to .npz (`python -m tcc.extract_embeddings`)."""
    _load("tcc.extract_embeddings").run()


def convert() -> None:
    """`tcc-convert`: videos / frame folders to records (`python -m tcc.datasets.convert`)."""
    from absl import app  # noqa: PLC0415

    module = _load("tcc.datasets.convert")
    module.define_flags()
    app.run(module.main)


def align() -> None:
    """`tcc-align`: aligns videos and plays them in sync (`python -m tcc.apps.align`)."""
    _load("tcc.apps.align").run()


def transfer() -> None:
    """`tcc-transfer`: transfers labels and sound (`python -m tcc.apps.transfer`)."""
    _load("tcc.apps.transfer").run()


def retrieve() -> None:
    """`tcc-retrieve`: finds the same moment in other videos (`python -m tcc.apps.retrieve`)."""
    _load("tcc.apps.retrieve").run()


def anomaly() -> None:
    """`tcc-anomaly`: flags frames unlike the train videos (`python -m tcc.apps.anomaly`)."""
    _load("tcc.apps.anomaly").run()


def progress() -> None:
    """`tcc-progress`: per-frame task progress of a video (`python -m tcc.apps.progress`)."""
    _load("tcc.apps.progress").run()
