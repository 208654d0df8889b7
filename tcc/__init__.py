"""tcc: Temporal Cycle-Consistency Learning in TensorFlow 2 / Keras 3."""

import sys as _sys

__version__ = "0.1.0"

if _sys.argv[:1] == ["-m"]:  # `python -m tcc.<entry point>`: a quiet console (tcc/console.py)
    from tcc.console import quiet_tensorflow as _quiet

    _quiet()
