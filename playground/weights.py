"""Our small models on disk: config.json (the model's config dataclass) beside model.safetensors."""

import json
from dataclasses import asdict
from pathlib import Path

from safetensors.torch import load_file, save_file
from torch import nn

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_model(model: nn.Module, config: object, folder: Path) -> None:
    """Write config (a dataclass) and the model's weights into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=1) + "\n")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, folder / WEIGHTS_FILE)


def read_config(folder: Path, kind: str) -> dict:
    """The config saved by save_model; kind names the model in the error ("GAN", "judge")."""
    if not (folder / CONFIG_FILE).is_file():
        raise ValueError(f"{kind} folder {str(folder)!r} has no {CONFIG_FILE}")
    return json.loads((folder / CONFIG_FILE).read_text())


def load_weights(model: nn.Module, folder: Path) -> nn.Module:
    """model with the weights saved by save_model, in evaluation mode."""
    model.load_state_dict(load_file(folder / WEIGHTS_FILE))
    return model.eval()
