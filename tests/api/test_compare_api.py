"""The Compare tab's endpoints over real HTTP, with our shipped image models and the embedded text model."""

import re

import pytest
from conftest import SERVER_API_KEY, call_raw, require
from gradio_client import Client

from playground import config
from playground.image import metadata

pytestmark = pytest.mark.embedded
PROMPTS = ["food", "a red apple"]


@pytest.fixture(scope="module")
def client(app) -> Client:
    require((config.DIFFUSION_MODEL_DIR / "model_index.json").is_file(), "the shipped diffusion model is missing")
    require((config.JUDGE_MODEL_DIR / "model.safetensors").is_file(), "the shipped judge is missing")
    return Client(app.url, verbose=False)


def compare_prompts(client: Client, **kwargs) -> tuple[list[dict], dict]:
    settings = {"prompts": PROMPTS, "modality": "image", "backend": "gan", "seed": 7, "num_seeds": 3} | kwargs
    return client.predict(api_name="/compare_prompts", **settings)


def test_compare_prompts_returns_pictures_in_prompt_then_seed_order_and_the_judges_details_honoured(client):
    gallery, report = compare_prompts(client, backend="diffusion", num_inference_steps=8)
    stored = [metadata.read_settings(item["image"]) for item in gallery]
    assert [(s["prompt"], s["seed"]) for s in stored] == [(p, seed) for p in PROMPTS for seed in (7, 8, 9)]
    # each picture's caption: its checks against the reference, "a red apple"
    captions = re.compile(r"(food|a red apple) · seed (\d) · ([0-2]) of 2: [✓✗] apple( \(.+\))? · [✓✗] red apple( \(.+\))?")
    assert [captions.fullmatch(item["caption"]).group(1, 2) for item in gallery[:4]] == [
        ("food", "7"), ("food", "8"), ("food", "9"), ("a red apple", "7")]
    assert stored[0]["num_inference_steps"] == 8 and stored[0]["backend"] == "diffusion"
    assert report["reference_prompt"] == "a red apple" and report["settings"]["seeds"] == [7, 8, 9]
    assert report["adherence_measure"] == "the share of the reference prompt's details the judge finds honoured in the picture"
    assert report["not_checked"] == []
    vague, detailed = report["columns"]
    assert (vague["specificity"]["score"], detailed["specificity"]["words"]) == (1, {"colour": ["red"], "subject": ["apple"]})
    for column, pictures in zip(report["columns"], (gallery[:3], gallery[3:]), strict=True):
        honoured = [sum(check["honoured"] for check in checks) for checks in column["checks_per_seed"]]
        assert [int(captions.fullmatch(item["caption"]).group(3)) for item in pictures] == honoured
        assert column["adherence_per_seed"] == [round(n / 2, 4) for n in honoured]
        assert (column["adherence"], column["details_honoured"]) == (round(sum(honoured) / 6, 4), round(sum(honoured) / 3, 4))
        assert [(d["detail"], d["pictures_honouring"]) for d in column["details"]] == [
            (detail, sum(checks[i]["honoured"] for checks in column["checks_per_seed"]))
            for i, detail in enumerate(["apple", "red apple"])]
    assert vague["diversity"] > detailed["diversity"]


def test_compare_prompts_runs_texts_through_a_compatible_server_with_this_callers_key(app, client):
    _, report = compare_prompts(client, prompts=["Name a fruit.", "Name a red fruit that grows on trees."], modality="text",
                                backend="openai", model=config.DEFAULT_TEXT_MODEL, num_seeds=2, max_new_tokens=12,
                                base_url=f"{app.url}/v1", api_key=SERVER_API_KEY)
    assert [len(column["texts"]) for column in report["columns"]] == [2, 2]
    assert all(isinstance(t, str) for column in report["columns"] for t in column["texts"])
    assert SERVER_API_KEY not in app.log()


def test_enhance_prompt_returns_a_more_detailed_prompt(client):
    detailed = client.predict(prompt="a face", modality="image", backend="local", api_name="/enhance_prompt")
    assert isinstance(detailed, str) and len(detailed.split()) > 2 and "face" in detailed


def test_words_that_mattered_returns_the_adherence_and_the_judges_checks_lost_per_detail(client):
    table, chart = client.predict(prompt="a yellow banana, fruit", modality="image", backend="gan", seed=0, num_seeds=2,
                                  api_name="/words_that_mattered")
    assert table["headers"] == ["detail removed", "prompt without it", "adherence", "drop", "checks it costs"]
    assert [row[:2] for row in table["data"]] == [["yellow", "a banana, fruit"], [", fruit", "a yellow banana"]]
    for _, _, adherence, drop, costs in table["data"]:  # adherence: the share of banana, yellow banana honoured
        assert adherence in (0, 0.25, 0.5, 0.75, 1) and -1 <= drop <= 1
        assert re.fullmatch(r"(✓ (banana|yellow banana): [12] → [01] of 2 pictures( · )?)*", costs), costs
    assert chart["type"] == "matplotlib"


def test_words_that_mattered_refuses_pictures_the_judge_does_not_know(client):
    with pytest.raises(Exception, match=re.escape("which words mattered is measured on pictures by the judge")):
        client.predict(prompt="a yellow banana", modality="image", backend="openai", api_name="/words_that_mattered")


def test_temperature_sweep_puts_the_same_seeds_side_by_side(client):
    table = client.predict(prompt="Name a colour.", temperatures=[0, 1.5], backend="local", model=config.DEFAULT_TEXT_MODEL,
                           seed=1, num_seeds=2, max_new_tokens=8, api_name="/temperature_sweep")
    assert table["headers"] == ["temperature", "distinct-1", "distinct-2", "seed 1", "seed 2"]
    greedy, hot = table["data"]
    assert greedy[3] == greedy[4] and hot[3] != hot[4]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompts": ["a face"]}, "prompts must hold between 2 and 4 prompts, got 1"),
        ({"prompts": ["a", "b", "c", "d", "e"]}, "prompts must hold between 2 and 4 prompts, got 5"),
        ({"prompts": ["a face", ""]}, "prompts[1] must not be empty"),
        ({"prompts": ["a face", "x" * 1001]}, "prompts[1] is too long: 1001 characters, the limit is 1000"),
        ({"num_seeds": 0}, "num_seeds must be between 1 and 8, got 0"),
        ({"num_seeds": 9}, "num_seeds must be between 1 and 8, got 9"),
        ({"prompts": ["a", "b", "c"], "backend": "diffusion", "num_seeds": 8, "num_inference_steps": 200},
         "3 prompts × 8 seeds × 200 num_inference_steps = 4800, the limit is 3200"),
        ({"modality": "text"}, "backend must be one of 'local', 'openai' for the text modality, got 'gan'"),
    ],
)
def test_bad_input_gets_a_message_naming_the_parameter(client, kwargs, message):
    with pytest.raises(Exception, match=re.escape(message)):
        compare_prompts(client, **kwargs)


def test_nan_sent_over_raw_http_is_refused_and_the_server_keeps_serving(app, client):
    for position, name in ((5, "num_seeds"), (8, "guidance_scale")):
        inputs = ['["food", "a red apple"]', '"image"', '"gan"', '""', "0", "2", '""', "20", "3", '"dpm++"', '""', "0.7",
                  "1", "60", '""', '""']
        inputs[position] = "NaN"
        events = call_raw(app, "compare_prompts", f'{{"data": [{", ".join(inputs)}]}}')
        assert "event: error" in events and f"{name} must be a finite number" in events
    assert len(compare_prompts(client, num_seeds=1)[0]) == 2
