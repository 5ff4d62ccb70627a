"""The README's Python quickstart runs as written."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_blocks(sample_1k):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for code in blocks:
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                exec(compile(code, "README.md", "exec"), {})
            out = buf.getvalue().split()
            assert out == ["1000", "7063", "True"], out
    finally:
        os.chdir(cwd)
