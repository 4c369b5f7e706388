"""The image trainers, run for a few steps on scenes of the world, and the checkpoints they resume from."""

import json
import shutil

import pytest
import torch
from conftest import require
from safetensors.torch import load_file

from playground import config, registry
from playground.image import diffusion, world
from playground.image.gan import load_generator
from playground.training import autoencoder as autoencoder_trainer
from playground.training import diffusion as diffusion_trainer
from playground.training import evaluate, loop
from playground.training import gan as gan_trainer
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import load_world_sprites

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAINERS = {"autoencoder": autoencoder_trainer, "diffusion": diffusion_trainer, "gan": gan_trainer}  # in this order
AUTOENCODER_KEEPS = 0.85  # GenEval's six after a round trip: 0.95 in the model card (10 prompts a task), 0.64 at step 1 250
ROUND_TRIP_ERROR = 0.03  # mean absolute pixel error of the committed autoencoder's round trip: 0.010 (0.12 when the
                         # diffusion trainer handed it pictures in [-1, 1] instead of [0, 1])
EXPORTED = {"autoencoder": "vae/diffusion_pytorch_model.safetensors", "diffusion": "unet/diffusion_pytorch_model.safetensors",
            "gan": "model.safetensors"}


def train(name, out, steps, autoencoder=None):
    """Run a trainer; the diffusion trainer encodes its pictures with the autoencoder folder given."""
    args = ["--autoencoder", str(autoencoder)] if name == "diffusion" else []
    args += ["--out", str(out), "--tiny", "--steps", str(steps), "--checkpoint-every", "2",
            "--batch-size", "4", "--device", "cpu", "--threads", "1"]
    assert TRAINERS[name].main(args) == 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each trainer run for 3 steps (a checkpoint at step 2, and at the last step)."""
    outs = {}
    for name in TRAINERS:
        outs[name] = tmp_path_factory.mktemp(f"{name}-3-steps")
        train(name, outs[name], 3, outs["autoencoder"] / autoencoder_trainer.VAE_FOLDER)
    return outs


def progress(out) -> dict:
    return json.loads((out / loop.CHECKPOINT / "progress.json").read_text())


@pytest.mark.parametrize("name", list(TRAINERS))
def test_trainer_leaves_a_checkpoint_at_its_last_step(trained, name):
    out = trained[name]
    assert progress(out)["step"] == 3
    assert sorted(p.name for p in out.iterdir() if "checkpoint" in p.name) == [loop.CHECKPOINT]  # no partial or old


def test_diffusion_trainer_leaves_a_pipeline_that_loads_and_generates(trained):
    out = trained["diffusion"]
    assert json.loads((out / "model_index.json").read_text())["_class_name"] == "TextToImagePipeline"
    registry.clear()
    try:
        loaded = diffusion.load_pipeline(str(out))
        assert isinstance(loaded.pipeline, diffusion.TextToImagePipeline)
        images, timeline = diffusion.run_pipeline(loaded, ["a red apple"] * 2, "", [0, 1], 2, 3.0, "dpm++")
    finally:
        registry.clear()
    assert [image.size for image in images] == [(64, 64)] * 2
    assert timeline.steps[-1] == 2 and timeline.final is images


def test_diffusion_trainer_leaves_schedulers_that_do_not_clip_latents_to_the_pixel_range(trained):
    exported = json.loads((trained["diffusion"] / "scheduler" / "scheduler_config.json").read_text())
    for name, scheduler in diffusion.SCHEDULERS.items():  # each is made from the exported config, as the app does
        made = scheduler.from_config(exported).config
        assert not made.get("clip_sample", False) and not made.get("thresholding", False), name


def test_autoencoder_trainer_leaves_an_autoencoder_of_64_px_pictures_to_16_x_16_latents(trained):
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(trained["autoencoder"] / autoencoder_trainer.VAE_FOLDER)
    pictures = torch.rand(2, 3, 64, 64)
    latents = autoencoder_trainer.encoded(vae, pictures).mean
    assert latents.shape == (2, diffusion.LATENT_CHANNELS, 16, 16)
    assert autoencoder_trainer.round_trip(vae, pictures).shape == pictures.shape
    assert vae.config.scaling_factor != 1.0  # set from the spread of the training latents


def test_gan_trainer_leaves_a_generator_of_pictures_of_the_world_size_that_loads(trained):
    out = trained["gan"]
    assert {"config.json", "model.safetensors"} <= {p.name for p in out.iterdir()}
    generator = load_generator(out)
    assert generator.config.image_size == world.SIZE and generator.config.width == 8
    from playground.image.gan import generate
    from playground.image.text_encoder import encode

    pictures = generate(generator, encode(["a red apple", "a red apple"]).sentence, [3, 3])
    assert pictures.shape == (2, 3, world.SIZE, world.SIZE) and torch.equal(pictures[0], pictures[1])


def test_the_benchmark_judges_the_generator_a_gan_training_run_leaves(trained, tmp_path, capsys):
    from playground.image import ImageSettings
    from playground.image.gan import generate
    from playground.image.text_encoder import encode

    generator = load_generator(trained["gan"])
    drawn = evaluate.generated_pictures(ImageSettings(backend="gan"), ["a red apple"], generator)
    made = generate(generator, encode(["a red apple"] * evaluate.PICTURES_PER_PROMPT).sentence,
                    list(range(evaluate.PICTURES_PER_PROMPT)))
    assert (drawn - made).abs().max() <= 1 / 255  # that generator's pictures, at its 64 px (rounded to bytes)
    figures = tmp_path / "figures.json"
    assert evaluate.main(["--backends", "gan", "--gan", str(trained["gan"]), "--prompts", "1", "--json", str(figures)]) == 0
    scores = json.loads(figures.read_text())["scores"]["gan"]
    assert set(evaluate.TASKS) <= set(scores) and all(0 <= value <= 1 for value in scores.values())
    assert "| gan |" in capsys.readouterr().out


def exported_weights(name, out) -> dict[str, torch.Tensor]:
    return load_file(out / EXPORTED[name])


@pytest.mark.parametrize("name", list(TRAINERS))
def test_training_resumes_from_the_checkpoint_and_matches_an_uninterrupted_run(trained, tmp_path, name,
                                                                                capsys):
    resumed = tmp_path / "resumed"
    shutil.copytree(trained[name], resumed)
    capsys.readouterr()
    train(name, resumed, 4, trained["autoencoder"] / autoencoder_trainer.VAE_FOLDER)
    assert "resuming at step 3" in capsys.readouterr().out
    assert progress(resumed)["step"] == 4

    straight = tmp_path / "straight"
    train(name, straight, 4, trained["autoencoder"] / autoencoder_trainer.VAE_FOLDER)
    assert progress(straight)["step"] == 4
    first, second = exported_weights(name, resumed), exported_weights(name, straight)
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


@pytest.mark.parametrize("name", ["autoencoder", "diffusion"])
def test_training_from_an_exported_model_starts_from_its_weights(trained, tmp_path, capsys, name):
    shipped = trained[name] / autoencoder_trainer.VAE_FOLDER if name == "autoencoder" else trained[name]
    capsys.readouterr()
    assert TRAINERS[name].main(["--init", str(shipped), "--out", str(tmp_path), "--tiny", "--steps", "1", "--lr", "0",
                                "--batch-size", "2", "--device", "cpu", "--threads", "1"]) == 0
    assert f"from {shipped}, starting" in capsys.readouterr().out
    before, after = exported_weights(name, trained[name]), exported_weights(name, tmp_path)
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_a_unet_exported_before_the_sentence_embedding_continues_from_its_weights_unchanged(tmp_path):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    older = {k: v for k, v in diffusion.unet_config(tiny=True).items() if "class_embed" not in k}
    UNet2DConditionModel(**older).save_pretrained(tmp_path / "unet")
    old = UNet2DConditionModel.from_pretrained(tmp_path / "unet").eval()
    new = UNet2DConditionModel(**diffusion.unet_config(tiny=True)).eval()
    diffusion_trainer.load_init(new, tmp_path / "unet")
    latents, states = torch.randn(2, diffusion.LATENT_CHANNELS, 16, 16), torch.randn(2, 5, 384)
    sentence = torch.nn.functional.normalize(torch.randn(2, 384), dim=-1)
    with torch.no_grad():
        before = old(latents, 500, encoder_hidden_states=states).sample
        after = new(latents, 500, encoder_hidden_states=states, class_labels=sentence).sample
    assert torch.allclose(before, after, atol=1e-6)


def test_a_unet_of_another_shape_is_refused_as_a_start(tmp_path):
    from diffusers import UNet2DConditionModel

    other = diffusion.unet_config(tiny=True) | {"layers_per_block": 2}
    UNet2DConditionModel(**other).save_pretrained(tmp_path / "unet")
    with pytest.raises(ValueError, match="is not a UNet of this shape"):
        diffusion_trainer.load_init(UNet2DConditionModel(**diffusion.unet_config(tiny=True)), tmp_path / "unet")


def test_the_latents_the_diffusion_model_learns_decode_to_the_scenes_they_were_drawn_from():
    import argparse

    from diffusers import AutoencoderKL

    folder = config.AUTOENCODER_DIR
    require((folder / "config.json").is_file(), "the shipped autoencoder is missing")
    world = load_world_sprites(TRAINING_STYLES)
    vae = AutoencoderKL.from_pretrained(folder).eval()
    args = argparse.Namespace(batch_size=4, seed=0, device="cpu", workers=0)
    latents = next(diffusion_trainer.batches(args, world, vae, 7))[0]
    pictures = next(loop.world_batches(world, 4, 0, 7))[0] / 2 + 0.5
    with torch.no_grad():
        decoded = vae.decode(latents / vae.config.scaling_factor).sample / 2 + 0.5
    assert (decoded.clamp(0, 1) - pictures).abs().mean() < ROUND_TRIP_ERROR


def test_scenes_drawn_by_worker_processes_are_the_batches_the_training_process_draws_in_the_same_order():
    world = load_world_sprites(TRAINING_STYLES)
    alone, shared = loop.world_batches(world, 3, 0, 5), loop.world_batches(world, 3, 0, 5, workers=2)
    for _ in range(3):
        (pictures, text), (drawn, drawn_text) = next(alone), next(shared)
        assert torch.equal(pictures, drawn)
        assert torch.equal(text.token_states, drawn_text.token_states)


def test_the_committed_world_autoencoder_keeps_most_of_what_the_judge_checks_in_real_scenes():
    from diffusers import AutoencoderKL

    folder = config.AUTOENCODER_DIR
    require((folder / "config.json").is_file(), "the shipped autoencoder is missing")
    world = load_world_sprites(TRAINING_STYLES)
    prompts = {task: texts for task, texts in evaluate.task_prompts(world, 3).items() if task in evaluate.GENEVAL_TASKS}
    vae = AutoencoderKL.from_pretrained(folder).eval()
    rebuilt = {task: autoencoder_trainer.round_trip(vae, evaluate.real_pictures(world, texts))
               for task, texts in prompts.items()}
    assert evaluate.score(prompts, rebuilt)["overall"] >= AUTOENCODER_KEEPS


def test_finished_training_run_again_does_no_more_steps(trained, tmp_path):
    out = tmp_path / "gan"
    shutil.copytree(trained["gan"], out)
    before = exported_weights("gan", out)
    train("gan", out, 3)
    assert progress(out)["step"] == 3
    after = exported_weights("gan", out)
    assert all(torch.equal(before[k], after[k]) for k in before)


# The checkpoint code itself


def small_model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))


def one_step(model, optimizer, inputs):
    loss = model(inputs).square().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_checkpoint_round_trips_weights_adam_state_and_random_state(tmp_path):
    torch.manual_seed(0)
    model = small_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.5, 0.9))
    one_step(model, optimizer, torch.randn(8, 3))
    generator = torch.Generator().manual_seed(123)
    torch.randint(10, (5,), generator=generator)  # not at its seed's start
    loop.save_checkpoint(tmp_path, 1, {"model": model}, {"optimizer": optimizer}, generator, {"loss": 0.5})
    torch_state = torch.get_rng_state()

    torch.manual_seed(1)  # different weights, no optimizer state, other random states
    restored = small_model()
    restored_optimizer = torch.optim.Adam(restored.parameters(), lr=0.5)
    restored_generator = torch.Generator().manual_seed(0)
    assert loop.load_checkpoint(tmp_path, {"model": restored}, {"optimizer": restored_optimizer}, restored_generator) == 1

    for (key, value), (other_key, other) in zip(model.state_dict().items(), restored.state_dict().items(), strict=True):
        assert key == other_key and torch.equal(value, other), key
    original_state, restored_state = optimizer.state_dict(), restored_optimizer.state_dict()
    assert original_state["state"].keys() == restored_state["state"].keys() and len(original_state["state"]) == 6
    for index, fields in original_state["state"].items():
        assert fields.keys() == restored_state["state"][index].keys()
        for field, value in fields.items():
            assert torch.equal(value, restored_state["state"][index][field]), (index, field)
    group, restored_group = original_state["param_groups"][0], restored_state["param_groups"][0]
    assert restored_group["lr"] == 0.01 and tuple(restored_group["betas"]) == (0.5, 0.9)
    assert json.loads(json.dumps(restored_group)) == json.loads(json.dumps(group))  # every hyperparameter
    assert torch.equal(generator.get_state(), restored_generator.get_state())
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert json.loads((tmp_path / loop.CHECKPOINT / "progress.json").read_text()) == {"step": 1, "loss": 0.5}

    inputs = torch.randn(8, 3)  # and training goes on exactly as it would have
    one_step(model, optimizer, inputs)
    one_step(restored, restored_optimizer, inputs)
    for a, b in zip(model.parameters(), restored.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_new_checkpoint_replaces_the_old_one_and_no_checkpoint_means_step_0(tmp_path):
    model = small_model()
    optimizer = torch.optim.Adam(model.parameters())
    generator = torch.Generator().manual_seed(0)
    assert loop.load_checkpoint(tmp_path, {"model": model}, {"optimizer": optimizer}, generator) == 0
    loop.save_checkpoint(tmp_path, 2, {"model": model}, {"optimizer": optimizer}, generator, {})
    one_step(model, optimizer, torch.randn(4, 3))
    loop.save_checkpoint(tmp_path, 3, {"model": model}, {"optimizer": optimizer}, generator, {})
    assert [p.name for p in tmp_path.iterdir()] == [loop.CHECKPOINT]
    restored = small_model()
    assert loop.load_checkpoint(tmp_path, {"model": restored}, {"optimizer": torch.optim.Adam(restored.parameters())},
                                generator) == 3
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), restored.parameters(), strict=True))


def test_ema_moves_towards_the_live_weights_without_touching_them():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    ema = loop.EMA(model, decay=0.9)
    start = ema.model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    live = model.weight.detach().clone()
    ema.update(model, step=100)  # past the warm-up: the decay is 0.9
    assert torch.allclose(ema.model.weight, start + 0.1 * (live - start))
    assert torch.equal(model.weight, live) and not ema.model.weight.requires_grad
