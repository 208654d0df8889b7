"""The embedded demo: TCC on the synthetic pouring dataset with a small CPU encoder.

Used when `--config` is not given. Runs on a 2-core CPU in a few minutes:

  python -m tcc.train --alsologtostderr
  python -m tcc.train --alsologtostderr --config=configs/default.py --config.train.max_iters=100
"""

from tcc.config import get_default_config


def get_config():
    return get_default_config()
