"""The command lines' absl side: flag parsing with one-line errors, `--help` / `--helpconfig`.

Only entry points use this module (`tcc.train`, `tcc.evaluate`, `tcc.extract_embeddings`,
`tcc.experiments`, `tcc.datasets.convert`, `tcc.datasets.penn_action`, the apps); the library
below them takes plain arguments and configs and never reads flags. A bad flag ends the program
with one `error:` line that names the closest flags or config overrides:

  app.run(errors.wrap(main), flags_parser=cli.make_flags_parser(OVERRIDES))  # --config.a.b=v
  app.run(main, flags_parser=cli.flags_parser())                             # plain flags
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence

from absl import flags

from tcc import config as config_lib
from tcc import errors
from tcc.config_help import config_help

HELP_FLAGS = ("--help", "-h", "-?", "--helpshort")
HELPCONFIG_FLAG = "--helpconfig"


def parse_flags(
    flag_values: flags.FlagValues, argv: Sequence[str], config_keys: Sequence[str] = ()
) -> list[str]:
    """Parses `argv` into `flag_values`; a bad flag ends the program with one `error:` line.

    Returns:
      the arguments that are not flags (argv[0] first).
    """
    try:
        return flag_values(list(argv))
    except flags.Error as e:
        errors.fail(unknown_flag_message(e, flag_values, config_keys))
    return []


def flags_parser(flag_values: flags.FlagValues | None = None, config_keys: Sequence[str] = ()):
    """An `absl.app.run(..., flags_parser=...)` that reports bad flags as one `error:` line."""

    def parse(argv: list[str]) -> list[str]:
        return parse_flags(flag_values or flags.FLAGS, argv, config_keys)

    return parse


def unknown_flag_message(
    error: Exception, flag_values: flags.FlagValues, config_keys: Sequence[str] = ()
) -> str:
    """One line for an absl flag parsing error, suggesting the closest flags / config overrides.

    Args:
      error: an `absl.flags.Error` raised while parsing.
      flag_values: the `FlagValues` that was parsing (its flag names are the candidates).
      config_keys: dotted config keys; `--<leaf>` for a key `a.b.<leaf>` suggests
        `--config.a.b.<leaf>`.
    """
    name = getattr(error, "flagname", None)
    if not name:
        return f"{' '.join(str(error).split())}; see --helpfull for the valid flags"
    name = name.split("=", 1)[0]
    own = [f"--{n}" for n in flag_values if len(n) > 1]
    config = [f"--config.{k}" for k in config_keys]
    leaf = [f"--config.{k}" for k in config_keys if k.rsplit(".", 1)[-1] == name]
    close = leaf + [
        c
        for c in difflib.get_close_matches(f"--{name}", own + config, n=3, cutoff=0.6)
        if c not in leaf
    ]
    hint = f"did you mean {', '.join(close[:3])}?" if close else "see --helpfull for the flags"
    return f"unknown flag --{name}, on the command line; {hint}"


def config_flags_parser(overrides: list[str]):
    """A `flags_parser` that moves `--config.a.b=v` arguments into `overrides` and parses the rest.

    The override keys are not declared absl flags, so an unknown flag names the closest config
    keys too. `make_flags_parser` adds `--help` / `--helpconfig`.
    """

    def parse(argv: list[str]) -> list[str]:
        rest, found = config_lib.split_override_args(argv)
        overrides.extend(found)
        keys = config_lib.flat_keys(config_lib.get_default_config())
        return parse_flags(flags.FLAGS, rest, keys)

    return parse


def _flags_help() -> str:
    """The help of the flags defined by this command's modules (not absl's own)."""
    fv = flags.FLAGS
    modules = [m for m in fv.flags_by_module_dict() if m == sys.argv[0] or m.split(".")[0] == "tcc"]
    return "\n".join(fv.module_help(m) for m in modules)


def handle_help(argv: Sequence[str]) -> None:
    """Prints the help and exits 0 when `argv` asks for it (`--help`, `-h`, `--helpconfig`)."""
    args = list(argv[1:])
    if HELPCONFIG_FLAG not in args and not any(a in HELP_FLAGS for a in args):
        return
    cfg = None
    files = [a.split("=", 1)[1] for a in args if a.startswith("--config=")]
    if files:
        try:
            cfg = config_lib.load_config_file(files[-1])
        except (OSError, KeyError, AttributeError) as e:
            sys.exit(f"error: {e.args[0] if e.args else e}")
    if HELPCONFIG_FLAG not in args:
        doc = (getattr(sys.modules.get("__main__"), "__doc__", None) or "").strip()
        print(f"{doc}\n\n{_flags_help()}\n\n  --helpfull: every flag, absl's too\n")
    print(config_help(cfg))
    sys.exit(0)


def make_flags_parser(overrides: list[str]):
    """The config-driven entry points' `flags_parser`: `--help` / `--helpconfig` print the config
    keys and exit; otherwise `config_flags_parser` (overrides into `overrides`, flags parsed).

    Use as `app.run(main, flags_parser=cli.make_flags_parser(OVERRIDES))`.
    """
    parse = config_flags_parser(overrides)

    def parse_with_help(argv: list[str]) -> list[str]:
        handle_help(argv)
        return parse(argv)

    return parse_with_help
