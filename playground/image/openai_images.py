"""Pictures from the OpenAI Images API, or from any server that speaks it (this app's /v1 included)."""

import base64
import io

import openai
from PIL import Image, UnidentifiedImageError

from playground import config
from playground.openai_client import make_client, readable_error
from playground.validation import check_text

SIZE = "256x256"  # the smallest size dall-e-2 makes; compatible servers answer with their own size


def generate_pictures(prompt: str, num_images: int, model: str, base_url: str = "", api_key: str = "") -> list[Image.Image]:
    """num_images pictures for prompt (the API takes no seed, so they are not reproducible)."""
    model = check_text("model", model, config.MAX_NAME_CHARS).strip()
    client = make_client(base_url, api_key)
    try:
        response = client.images.generate(model=model, prompt=prompt, n=num_images, size=SIZE, response_format="b64_json")
    except openai.OpenAIError as error:
        raise readable_error(error, model, base_url) from None
    pictures = []
    for item in response.data or []:
        if not item.b64_json:
            raise ValueError("the server answered without picture data (b64_json)")
        try:
            pictures.append(Image.open(io.BytesIO(base64.b64decode(item.b64_json))).convert("RGB"))
        except (UnidentifiedImageError, ValueError, OSError):
            raise ValueError("the server's picture data could not be decoded") from None
    if not pictures:
        raise ValueError("the server answered with no pictures")
    return pictures
