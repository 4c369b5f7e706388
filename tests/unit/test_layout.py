"""The house rules that keep the code easy to change: runtime code never imports training code."""

import subprocess
import sys

from conftest import ROOT


def test_the_app_and_the_command_line_load_no_training_module():
    code = (
        "import sys; import playground.ui, playground.__main__; playground.ui.build_app(); "
        "print(sorted(m for m in sys.modules if m.startswith('playground.training')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip().splitlines()[-1] == "[]"
