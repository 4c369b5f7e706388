"""The styled emoji sprites, on tiny fake copies of the npm packages (no npm, no network)."""

import json
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from playground.training import emoji_styles
from playground.training.emoji_data import (
    DATA_PACKAGE,
    DATA_VERSION,
    EXTRACTED_MARKER,
    IMAGES_PACKAGE,
    IMAGES_VERSION,
    is_heldout,
)
from playground.training.emoji_styles import (
    FLUENT_PACKAGE,
    OPENMOJI_CREDIT,
    OPENMOJI_PACKAGE,
    PACKAGES,
    SHEET_CELL,
    SHEET_LABEL_WIDTH,
    STYLES,
    STYLES_FOLDER,
    TRAINING_STYLES,
    TWEMOJI_CREDIT,
    TWITTER_PACKAGE,
    fluent_slug,
    load_styled_sprites,
    read_picture,
)

RED, BLUE, YELLOW, BROWN = (220, 30, 30), (40, 80, 220), (250, 210, 40), (150, 100, 60)
HALF_ALPHA = 128  # the Noto blue square is half transparent, to check premultiplication
SKIN = "1F3FD"


def heldout_code() -> str:
    """A code point that the split holds out: the thumbs up of these packages, with a skin variant."""
    return next(f"{n:X}" for n in range(0x1F440, 0x1F4FF) if is_heldout(f"{n:X}"))


def png(path, colour, size=64, alpha=255):
    """A filled circle on a transparent background, like an emoji."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((size // 8, size // 8, size * 7 // 8, size * 7 // 8), fill=colour + (alpha,))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def svg(path, colour):
    """A filled square from 16 to 48 px at 64 px (a 2..6 square in an 8 x 8 view box), transparent around."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
                    f'<rect x="2" y="2" width="4" height="4" fill="#{bytes(colour).hex()}"/></svg>')


def package_root(npm, name, version):
    return npm / f"{name}-{version}" / "package"


@pytest.fixture
def cache_dir(tmp_path):
    """The five packages as fetch_package leaves them extracted.

    emojibase knows four emoji: a red apple, a blue square, a red heart ("2764", but "2764-FE0F" in
    emoji.json and OpenMoji, as in the real packages) and a thumbs up (held out) with a medium skin
    variant drawn brown in every style. A fifth, "smiling face with open hands", is only in Fluent, under
    its older name "hugging-face". OpenMoji also has an extra of its own (E000) that no emoji matches,
    and its black heart draws nothing (like OpenMoji 17's black "NEW button").
    """
    npm = tmp_path / "npm"
    thumbs = heldout_code()
    data = [
        {"hexcode": "1F34E", "label": "red apple", "group": 4, "subgroup": 42, "tags": ["fruit"]},
        {"hexcode": "1F7E6", "label": "blue square", "group": 8, "subgroup": 98, "tags": ["shape"]},
        {"hexcode": "2764", "label": "red heart", "group": 0, "subgroup": 14, "tags": ["love"]},
        {"hexcode": thumbs, "label": "thumbs up", "group": 1, "subgroup": 19, "tags": ["hand"],
         "skins": [{"hexcode": f"{thumbs}-{SKIN}", "label": "thumbs up: medium skin tone", "tone": 3}]},
        {"hexcode": "1F917", "label": "smiling face with open hands", "group": 0, "subgroup": 3, "tags": ["hug"]},
        {"hexcode": "1F3FB", "label": "light skin tone"},  # a component without a group: not an emoji picture
    ]
    data_root = package_root(npm, DATA_PACKAGE, DATA_VERSION)
    (data_root / "en").mkdir(parents=True)
    (data_root / "en" / "data.json").write_text(json.dumps(data))
    (data_root / "en" / "messages.json").write_text(json.dumps({
        "groups": [{"key": k, "order": o} for k, o in
                   [("smileys-emotion", 0), ("people-body", 1), ("food-drink", 4), ("symbols", 8)]],
        "subgroups": [{"key": k, "order": o} for k, o in
                      [("face-affection", 3), ("heart", 14), ("hand-fingers-closed", 19), ("food-fruit", 42),
                       ("geometric", 98)]],
    }))
    emoji = [("1F34E", RED), ("1F7E6", BLUE), ("2764-FE0F", RED), (thumbs, YELLOW)]
    for vendor, package, version, size in (("google", IMAGES_PACKAGE, IMAGES_VERSION, 64),
                                           ("twitter", TWITTER_PACKAGE, PACKAGES[TWITTER_PACKAGE].version, 72)):
        root = package_root(npm, package, version)
        index = []
        for order, (code, colour) in enumerate(emoji):
            alpha = HALF_ALPHA if code == "1F7E6" and vendor == "google" else 255
            png(root / "img" / vendor / "64" / f"{code.lower()}.png", colour, size, alpha)
            item = {"unified": code, "image": f"{code.lower()}.png", "sort_order": order, f"has_img_{vendor}": True}
            if code == thumbs:
                skin = f"{code}-{SKIN}"
                png(root / "img" / vendor / "64" / f"{skin.lower()}.png", BROWN, size)
                item["skin_variations"] = {SKIN: {"unified": skin, "image": f"{skin.lower()}.png",
                                                  f"has_img_{vendor}": True}}
            index.append(item)
        (root / "emoji.json").write_text(json.dumps(index))
    fluent = package_root(npm, FLUENT_PACKAGE, PACKAGES[FLUENT_PACKAGE].version)
    for style in ("flat", "modern", "high-contrast"):
        for name, colour in (("red-apple", RED), ("red-heart", RED), ("thumbs-up-default", YELLOW),
                             ("thumbs-up-medium", BROWN), ("hugging-face", YELLOW)):
            svg(fluent / "icons" / style / f"{name}.svg", colour)
    openmoji = package_root(npm, OPENMOJI_PACKAGE, PACKAGES[OPENMOJI_PACKAGE].version)
    for folder in ("color", "black"):
        for code, colour in (("1F34E", RED), ("2764-FE0F", RED), (thumbs, YELLOW), (f"{thumbs}-{SKIN}", BROWN),
                             ("E000", BLUE)):
            svg(openmoji / folder / "svg" / f"{code}.svg", colour)
    (openmoji / "black" / "svg" / "2764-FE0F.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>')
    for name, package in PACKAGES.items():
        root = package_root(npm, name, package.version)
        (root / "package.json").write_text(json.dumps({"version": package.version}))
        (root / (package.notice_file or "LICENSE.txt")).write_text(f"licence notice of {name}")
        (root.parent / EXTRACTED_MARKER).touch()
    return tmp_path


def rows(sprites, code):
    return [i for i, c in enumerate(sprites.codes) if c == code]


def colour_at_centre(sprites, row):
    """The straight-alpha RGB at the sprite's centre, in 0..255."""
    pixel = sprites.images[row, :, 32, 32]
    return tuple(round(v) for v in (pixel[:3] / pixel[3] * 255).tolist())


def test_svg_is_rasterised_to_64_px_with_its_colour_and_a_transparent_background(tmp_path):
    svg(tmp_path / "square.svg", RED)
    rgba = read_picture(tmp_path / "square.svg")
    assert rgba.shape == (64, 64, 4) and rgba.dtype == np.uint8
    assert (rgba[16:48, 16:48] == RED + (255,)).all()
    outside = np.ones((64, 64), dtype=bool)
    outside[16:48, 16:48] = False
    assert (rgba[outside, 3] == 0).all()


def test_png_of_another_size_is_read_as_64_px_rgba(tmp_path):
    png(tmp_path / "circle.png", BLUE, size=72)
    rgba = read_picture(tmp_path / "circle.png")
    assert rgba.shape == (64, 64, 4)
    assert tuple(rgba[32, 32]) == BLUE + (255,) and rgba[0, 0, 3] == 0


def test_styles_are_joined_by_codepoint_without_skin_variants(cache_dir):
    train = load_styled_sprites("train", STYLES, cache_dir)
    heldout = load_styled_sprites("heldout", STYLES, cache_dir)
    by_style = {style: set() for style in STYLES}
    for sprites in (train, heldout):
        for code, style in zip(sprites.codes, sprites.styles):
            by_style[style].add(code)
    thumbs = heldout_code()
    assert by_style["noto"] == by_style["twemoji"] == {"1F34E", "1F7E6", "2764", thumbs}
    for style in ("fluent-flat", "fluent-modern", "fluent-high-contrast"):
        assert by_style[style] == {"1F34E", "2764", thumbs, "1F917"}  # "hugging-face.svg" is 1F917
    assert by_style["openmoji"] == {"1F34E", "2764", thumbs}  # not E000
    assert by_style["openmoji-black"] == {"1F34E", thumbs}  # its heart is empty
    # One picture of the thumbs up per style, the one without a skin tone (yellow, not brown).
    thumbs_rows = rows(heldout, thumbs)
    assert sorted(heldout.styles[i] for i in thumbs_rows) == sorted(STYLES)
    assert all(colour_at_centre(heldout, i) == YELLOW for i in thumbs_rows)
    assert {heldout.names[i] for i in thumbs_rows} == {"thumbs up"}
    assert {train.names[i] for i in rows(train, "2764")} == {"red heart"}


def test_every_style_of_an_emoji_is_in_the_same_split(cache_dir):
    train = load_styled_sprites("train", STYLES, cache_dir)
    heldout = load_styled_sprites("heldout", STYLES, cache_dir)
    assert not set(train.codes) & set(heldout.codes)
    assert set(heldout.codes) == {heldout_code(), "1F917"}
    assert all(is_heldout(code) for code in heldout.codes) and not any(map(is_heldout, train.codes))


def test_sprites_are_premultiplied_rgba_like_the_video_sprites(cache_dir):
    train = load_styled_sprites("train", ["noto"], cache_dir)
    (row,) = rows(train, "1F7E6")
    alpha = HALF_ALPHA / 255
    expected = torch.tensor([c / 255 * alpha for c in BLUE] + [alpha])
    assert train.images.shape == (len(train.codes), 4, 64, 64)
    assert torch.allclose(train.images[row, :, 32, 32], expected, atol=1 / 255)
    assert (train.images[:, :, 0, 0] == 0).all()  # transparent corners are zero in every channel


def test_default_styles_leave_out_the_share_alike_openmoji(cache_dir):
    sprites = load_styled_sprites("train", cache_dir=cache_dir)
    assert set(sprites.styles) == set(TRAINING_STYLES)
    assert "openmoji" not in TRAINING_STYLES and "openmoji-black" not in TRAINING_STYLES
    assert {"noto", "twemoji", "fluent-flat", "fluent-modern", "fluent-high-contrast"} == set(TRAINING_STYLES)


def test_unknown_style_and_split_are_refused(cache_dir):
    with pytest.raises(ValueError, match="style must be one of 'noto', .*, got 'comic'"):
        load_styled_sprites("train", ["noto", "comic"], cache_dir)
    with pytest.raises(ValueError, match="split must be one of 'train', 'heldout', got 'test'"):
        load_styled_sprites("test", cache_dir=cache_dir)


def test_cached_styles_are_read_back_without_rasterising_again(cache_dir, monkeypatch):
    first = load_styled_sprites("train", STYLES, cache_dir)

    def no_reading(*args, **kwargs):
        raise AssertionError("a cached style must not be read from its package again")

    monkeypatch.setattr(emoji_styles, "read_picture", no_reading)
    again = load_styled_sprites("train", STYLES, cache_dir)
    assert again.codes == first.codes and again.styles == first.styles and torch.equal(again.images, first.images)


def test_licences_list_every_package_version_licence_and_credit(cache_dir):
    load_styled_sprites("train", STYLES, cache_dir)
    text = (cache_dir / "data" / STYLES_FOLDER / "LICENSES.md").read_text(encoding="utf-8")
    for name, package in PACKAGES.items():
        assert f"`{name}`" in text and package.version in text and package.licence in text
    for credit in (TWEMOJI_CREDIT, OPENMOJI_CREDIT, "Copyright (c) Microsoft Corporation"):
        assert credit in text
    for name in (IMAGES_PACKAGE, TWITTER_PACKAGE, FLUENT_PACKAGE, DATA_PACKAGE):
        assert f"licence notice of {name}" in text  # the MIT and Apache notices are copied
    assert "| openmoji | outlined |" in text and "evaluation only" in text


def test_licences_list_only_the_styles_in_the_folder(cache_dir):
    load_styled_sprites("train", ["noto"], cache_dir)
    text = (cache_dir / "data" / STYLES_FOLDER / "LICENSES.md").read_text(encoding="utf-8")
    assert IMAGES_PACKAGE in text and DATA_PACKAGE in text
    assert OPENMOJI_PACKAGE not in text and TWEMOJI_CREDIT not in text


@pytest.mark.parametrize("label, slug", [
    ("man’s shoe", "mans-shoe"), ("keycap: #", "keycap-hashtag"), ("keycap: *", "keycap-asterisk"),
    ("piñata", "pinata"), ("A button (blood type)", "a-button-blood-type"), ("man: red hair", "man-red-hair"),
])
def test_fluent_file_names_come_from_the_emojibase_label(label, slug):
    assert fluent_slug(label) == slug


def test_command_line_draws_every_style_from_extracted_packages_without_npm(cache_dir, tmp_path, monkeypatch, capsys):
    def no_npm(*args, **kwargs):
        raise AssertionError("npm must not run when the packages are already extracted")

    monkeypatch.setattr(subprocess, "run", no_npm)
    out = tmp_path / "sheet.png"
    assert emoji_styles.main(["--out", str(out), "--cache-dir", str(cache_dir)]) == 0
    with Image.open(out) as sheet:
        # Train emoji in all seven styles: the apple (the blue square is only Noto and Twemoji, the heart
        # has no black OpenMoji).
        assert sheet.size == (SHEET_LABEL_WIDTH + SHEET_CELL * len(STYLES), SHEET_CELL * 2)
    printed = capsys.readouterr().out
    assert "fluent-flat: 2 emoji" in printed and "in all 7 styles: 1 of 3 emoji" in printed


def test_command_line_refuses_a_sheet_of_no_emoji(cache_dir, tmp_path, capsys):
    assert emoji_styles.main(["--out", str(tmp_path / "s.png"), "--emoji", "0", "--cache-dir", str(cache_dir)]) == 2
    expected = f"error: emoji must be between 1 and {emoji_styles.MAX_SHEET_EMOJI}, got 0"
    assert capsys.readouterr().err.strip() == expected
