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


def test_cli_writes_pngs_that_carry_their_settings(tmp_path):
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

    from playground.image import metadata
    from playground.image.diffusion import BETA_SCHEDULE, autoencoder_config, unet_config
    from playground.training.diffusion import export

    torch.manual_seed(0)
    export(tmp_path / "pipeline", UNet2DConditionModel(**unet_config(tiny=True)),
           AutoencoderKL(**autoencoder_config(tiny=True)), DDPMScheduler(beta_schedule=BETA_SCHEDULE))
    out = tmp_path / "apple.png"
    result = run_cli("image", "a red apple", "--model", str(tmp_path / "pipeline"), "--seed", "3", "--num-images", "2",
                     "--num-inference-steps", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    paths = [tmp_path / "apple-1.png", tmp_path / "apple-2.png"]
    assert result.stdout.split() == [str(p) for p in paths]
    assert [metadata.read_settings(p)["seed"] for p in paths] == [3, 4]
    assert metadata.read_settings(paths[0])["prompt"] == "a red apple"


def test_cli_image_bad_input_prints_the_message_and_exits_2(tmp_path):
    result = run_cli("image", "a red apple", "--num-inference-steps", "0", "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: num_inference_steps must be between 1 and 200, got 0"
    assert not (tmp_path / "x.png").exists()


def test_cli_writes_a_video_that_carries_its_settings(tmp_path):
    from PIL import Image

    from playground.video.render import probe, read_video_settings

    out = tmp_path / "ball.mp4"
    result = run_cli("video", "--prompt", "a bouncing red ball", "--image-backend", "gan", "--num-frames", "6",
                     "--fps", "6", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{out} (bounce)"
    assert probe(out) == ("h264", 6, 6.0)
    assert read_video_settings(out)["prompt"] == "a bouncing red ball"

    start, gif = tmp_path / "start.png", tmp_path / "spin.gif"
    picture = Image.new("RGB", (32, 32), (0, 90, 200))
    picture.paste((250, 250, 0), (4, 12, 28, 20))  # a yellow bar: spinning changes every frame
    picture.save(start)
    result = run_cli("video", "--image", str(start), "--motion", "spin", "--num-frames", "5", "-o", str(gif))
    assert result.returncode == 0, result.stderr
    with Image.open(gif) as frames:
        assert frames.n_frames == 5


def test_cli_video_bad_input_prints_the_message_and_exits_2(tmp_path):
    result = run_cli("video", "--prompt", "a red ball", "--num-frames", "100", "-o", str(tmp_path / "x.mp4"))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: num_frames must be between 4 and 64, got 100"
    result = run_cli("video", "--prompt", "a red ball", "-o", str(tmp_path / "x.avi"))
    assert result.returncode == 2 and "output must end in .mp4 or .gif, got 'x.avi'" in result.stderr
    assert not any(tmp_path.iterdir())
