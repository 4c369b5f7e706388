import subprocess
import sys

from conftest import ROOT

from playground.text import local
from playground.text.sampling import SamplingSettings


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "playground", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_prints_the_same_text_as_the_backend(tiny_model_dir):
    result = run_cli("text", "hello the cat", "--model", str(tiny_model_dir), "--system-prompt", "", "--temperature", "1.1", "--seed", "4", "--max-new-tokens", "9")
    assert result.returncode == 0, result.stderr
    expected = local.stream_text("hello the cat", str(tiny_model_dir), "", SamplingSettings(temperature=1.1, seed=4, max_new_tokens=9)).text()
    assert result.stdout == expected + "\n"


def test_cli_lists_next_token_candidates(tiny_model_dir):
    result = run_cli("text", "hello", "--model", str(tiny_model_dir), "--next-token", "--top-k", "4", "--temperature", "0.5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "p(T=0.5)" in lines[0] and len(lines) == 5


def test_cli_bad_input_prints_the_message_and_exits_2():
    result = run_cli("text", "hello", "--temperature", "3")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: temperature must be between 0 and 2, got 3.0"
    assert "Traceback" not in result.stderr
