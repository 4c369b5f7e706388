"""Post-processing (seed text 000, step 7): adjust a finished picture without generating it again.

Pillow's enhancers, where 1.0 leaves the picture unchanged, and an upscale by 2 or 4 (Lanczos).
"""

from dataclasses import asdict, dataclass

from PIL import Image, ImageEnhance

from playground.validation import check_choice, check_range

MAX_FACTOR = 3.0  # enhancement factors are between 0 (flat) and this
UPSCALES = (1, 2, 4)


@dataclass(frozen=True)
class PostProcessing:
    brightness: float = 1.0  # 0 black, 1 unchanged, 2 twice as bright
    contrast: float = 1.0  # 0 flat grey, 1 unchanged
    saturation: float = 1.0  # 0 black and white, 1 unchanged, 2 vivid
    sharpness: float = 1.0  # 0 blurred, 1 unchanged, 2 sharpened
    upscale: int = 1  # 1, 2 or 4 times the size

    def __post_init__(self) -> None:
        for name in ("brightness", "contrast", "saturation", "sharpness"):
            object.__setattr__(self, name, check_range(name, getattr(self, name), 0.0, MAX_FACTOR))
        if isinstance(self.upscale, float) and self.upscale.is_integer():
            object.__setattr__(self, "upscale", int(self.upscale))
        check_choice("upscale", self.upscale, UPSCALES)

    @property
    def is_identity(self) -> bool:
        return self == PostProcessing()

    def as_dict(self) -> dict:
        return asdict(self)


ENHANCERS = {
    "brightness": ImageEnhance.Brightness,
    "contrast": ImageEnhance.Contrast,
    "saturation": ImageEnhance.Color,
    "sharpness": ImageEnhance.Sharpness,
}


def postprocess(image: Image.Image, settings: PostProcessing) -> Image.Image:
    """The picture with the enhancements applied in a fixed order, then upscaled."""
    image = image.convert("RGB")
    for name, enhancer in ENHANCERS.items():
        factor = getattr(settings, name)
        if factor != 1.0:
            image = enhancer(image).enhance(factor)
    if settings.upscale != 1:
        image = image.resize((image.width * settings.upscale, image.height * settings.upscale), Image.Resampling.LANCZOS)
    return image
