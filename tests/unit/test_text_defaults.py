"""The Text tab starts at the sampling defaults chosen by benchmarks/bench_text_quality.py, that benchmark's loop
rule tells a looping reply from a normal one, and the tab's loop example shows a loop that the defaults break."""

import dataclasses
import sys

import gradio as gr
import pytest
from conftest import ROOT

from playground import config, text
from playground.text.sampling import SamplingSettings
from playground.ui.text import EXAMPLES, build_text_tab

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_text_quality import NEW_TOKENS, loops  # noqa: E402

LENGTH = "max_new_tokens"  # how long a reply may get is the tab's own choice, not a sampling default


def test_the_text_tab_and_its_endpoint_start_at_the_sampling_defaults():
    with gr.Blocks() as demo:
        build_text_tab()
    parameters = demo.get_api_info()["named_endpoints"]["/generate_text"]["parameters"]
    endpoint = {p["parameter_name"]: p["parameter_default"] for p in parameters}
    defaults = {f.name: f.default for f in dataclasses.fields(SamplingSettings) if f.name != LENGTH}
    assert {name: endpoint[name] for name in defaults} == defaults


def test_the_loop_rule_flags_a_looping_reply_and_passes_a_normal_one():
    looping = "A Generational Anomaly Anomaly Super Anomaly " + "Super Super Super " * 10
    normal = ("A GAN is two neural networks trained against each other: a generator makes fake samples and a "
              "discriminator learns to tell them from real ones, until the fakes look real.")
    short = "Super " * 19  # under 20 words: too short to call a loop

    assert loops(looping)
    assert not loops(normal)
    assert not loops(short)


@pytest.mark.embedded
def test_the_loop_example_loops_and_the_default_top_k_and_penalty_break_it(embedded_model, one_torch_thread):
    (prompt, temperature, top_p, top_k, penalty, seed), (prompt_2, temperature_2, top_p_2, *defaults, seed_2) = EXAMPLES["loop"]
    assert (prompt_2, temperature_2, top_p_2, seed_2) == (prompt, temperature, top_p, seed)
    assert defaults == [SamplingSettings().top_k, SamplingSettings().repetition_penalty]

    def reply(top_k: int, repetition_penalty: float) -> str:
        settings = SamplingSettings(temperature, top_p, top_k, NEW_TOKENS, repetition_penalty, seed)
        return text.stream_text(prompt, "local", embedded_model, config.DEFAULT_SYSTEM_PROMPT, settings).text()

    assert loops(reply(top_k, penalty))
    assert not loops(reply(*defaults))
