"""The example of docs/losses.md runs as written."""

import pathlib
import re

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "losses.md"


def test_loss_api_example_in_the_user_guide_runs(tmp_path, capsys):
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[0]
    script = tmp_path / "losses_example.py"  # a real file, so AutoGraph can read its source
    script.write_text(code, encoding="utf-8")
    exec(compile(code, str(script), "exec"), {"__name__": "losses_example"})
    values = [float(v) for v in capsys.readouterr().out.split()]
    assert len(values) == 5 and all(v == v and abs(v) < 1e6 for v in values)
