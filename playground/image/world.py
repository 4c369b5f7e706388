"""The small world our image models know, and how a prompt asks for something in it.

The world (issue 11; seed text 000, step 9: the more a prompt says, the closer the picture comes to what was meant)
is 64 x 64 pictures of one to four emoji objects. A prompt can ask for each object's count, colour, size and place,
for how two objects stand to each other, for the background and for the drawing style. This module holds its
vocabulary (the words the models were trained on) and reads a prompt into a Request: the details a picture should
honour, which the judge (playground.image.judge) checks one by one and the Image tab shows as ticks and crosses.
A word outside the vocabulary is reported, because a model only knows what it was trained on (seed text 003).

The training scenes (playground.training.scenes) are drawn and captioned with these same words, so every caption
reads back into the scene it describes (a test checks it).
"""

import random
import re
from dataclasses import dataclass, field

from playground.image.pictures import COLOUR_WORDS

SIZE = 64  # pixels: the world's pictures are SIZE x SIZE

# The objects: the word a prompt uses -> the emoji (its English name in emojibase) that shows it, by category.
CATEGORIES = {
    "food": {
        "apple": "red apple", "banana": "banana", "watermelon": "watermelon", "lemon": "lemon",
        "pineapple": "pineapple", "pear": "pear", "strawberry": "strawberry", "tomato": "tomato", "carrot": "carrot",
        "corn": "ear of corn", "broccoli": "broccoli", "mushroom": "mushroom", "bread": "bread",
        "cheese": "cheese wedge", "pizza": "pizza", "hamburger": "hamburger", "doughnut": "doughnut",
        "cake": "birthday cake", "ice cream": "soft ice cream", "cookie": "cookie",
    },
    "animal": {
        "cat": "cat", "dog": "dog", "horse": "horse", "cow": "cow", "pig": "pig", "rabbit": "rabbit",
        "elephant": "elephant", "giraffe": "giraffe", "monkey": "monkey", "bird": "bird", "penguin": "penguin",
        "duck": "duck", "owl": "owl", "frog": "frog", "turtle": "turtle", "snake": "snake", "fish": "fish",
        "whale": "whale", "octopus": "octopus", "crab": "crab", "snail": "snail", "butterfly": "butterfly",
        "bee": "honeybee", "spider": "spider",
    },
    "plant": {
        "tree": "deciduous tree", "palm tree": "palm tree", "cactus": "cactus", "tulip": "tulip",
        "sunflower": "sunflower", "leaf": "maple leaf",
    },
    "sky": {
        "sun": "sun", "moon": "crescent moon", "star": "star", "cloud": "cloud", "rainbow": "rainbow",
        "snowflake": "snowflake", "snowman": "snowman",
    },
    "vehicle": {
        "car": "automobile", "bus": "bus", "bicycle": "bicycle", "airplane": "airplane", "rocket": "rocket",
        "sailboat": "sailboat",
    },
    "thing": {
        "house": "house", "tent": "tent", "heart": "red heart", "umbrella": "umbrella", "key": "key", "bell": "bell",
        "balloon": "balloon", "gift": "wrapped gift", "crown": "crown", "light bulb": "light bulb",
        "guitar": "guitar", "trophy": "trophy", "ball": "soccer ball", "kite": "kite", "hammer": "hammer",
        "book": "closed book", "anchor": "anchor",
    },
}
OBJECTS = {word: emoji for objects in CATEGORIES.values() for word, emoji in objects.items()}
CATEGORY = {word: category for category, objects in CATEGORIES.items() for word in objects}
PLURALS = {"fish": "fish", "strawberry": "strawberries", "butterfly": "butterflies", "tomato": "tomatoes",
           "leaf": "leaves", "bus": "buses", "cactus": "cacti", "snowman": "snowmen", "octopus": "octopuses",
           "broccoli": "broccoli", "corn": "corn cobs", "bread": "loaves of bread", "cheese": "pieces of cheese"}
SYNONYMS = {"automobile": "car", "plane": "airplane", "aeroplane": "airplane", "bike": "bicycle", "boat": "sailboat",
            "present": "gift", "lightbulb": "light bulb", "bulb": "light bulb", "football": "ball", "donut": "doughnut",
            "burger": "hamburger", "corn cob": "corn", "bunny": "rabbit", "puppy": "dog", "kitten": "cat", "maple leaf": "leaf"}

# Colours an object can be asked in ("a blue banana"): every colour word but the two the plain background
# would hide; each is drawn as COLOUR_RGB, which the colour rule (pictures.pixel_colours) reads back as its word.
OBJECT_COLOURS = tuple(c for c in COLOUR_WORDS if c not in ("white", "grey"))
COLOUR_RGB = {
    "red": (220, 40, 40), "orange": (245, 140, 30), "yellow": (245, 210, 40), "green": (60, 170, 60),
    "blue": (50, 100, 220), "purple": (140, 60, 190), "pink": (245, 130, 180), "brown": (140, 80, 40),
    "black": (35, 35, 35), "white": (240, 240, 240), "grey": (150, 150, 150),
}
# Backgrounds: a plain colour, or a gradient from one colour at the top to another at the bottom. "white" is the
# world's default light grey (pictures.BACKGROUND), which reads as white.
BACKGROUND_COLOURS = (*OBJECT_COLOURS, "white")

COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "1": 1, "2": 2, "3": 3, "4": 4}
MAX_COUNT = 4
SIZES = {"small": "small", "little": "small", "tiny": "small", "big": "big", "large": "big", "huge": "big"}
# Object sides in pixels: what the scenes draw, and where the judge draws the line between sizes.
SIZE_PIXELS = {"small": (12, 16), "medium": (20, 26), "big": (32, 40)}
SMALL_UP_TO, BIG_FROM = 18, 29

# Areas: the picture cut into thirds each way; an object is in the area its centre falls in.
AREAS = ("top left", "top", "top right", "left", "centre", "right", "bottom left", "bottom", "bottom right")
AREA_PHRASES = {
    "top left": ("in the top left corner", "at the top left", "in the top left"),
    "top right": ("in the top right corner", "at the top right", "in the top right"),
    "bottom left": ("in the bottom left corner", "at the bottom left", "in the bottom left"),
    "bottom right": ("in the bottom right corner", "at the bottom right", "in the bottom right"),
    "top": ("at the top",), "bottom": ("at the bottom",),
    "left": ("on the left", "at the left", "on the left side"),
    "right": ("on the right", "at the right", "on the right side"),
    "centre": ("in the centre", "in the middle", "in the center"),
}
# How one object stands to another, judged by their centres (see relation_of).
RELATION_PHRASES = {
    "left of": ("to the left of", "left of"),
    "right of": ("to the right of", "right of"),
    "above": ("above", "over"),
    "below": ("below", "under", "beneath"),
    "next to": ("next to", "beside"),
}

# Drawing styles (emoji packages, see playground.training.emoji_styles) and the word a prompt uses for each.
STYLE_WORDS = {
    "noto": "noto",
    "twemoji": "twemoji",
    "fluent-flat": "flat",
    "fluent-modern": "glossy",
    "fluent-high-contrast": "black and white",
    "openmoji": "outlined",
    "openmoji-black": "line art",
}

# The vaguest words for the objects ("an animal"): a prompt may use them, but they ask for no object the judge can check.
CATEGORY_WORDS = {"food": ("food", "food"), "animal": ("animal", "animals"), "plant": ("plant", "plants"),
                  "sky": ("thing in the sky", "things in the sky"), "vehicle": ("vehicle", "vehicles"),
                  "thing": ("object", "objects")}
# Words a prompt may use that ask for nothing themselves.
GRAMMAR_WORDS = frozenset(
    "a an the and of with on in at is are there some picture image drawing photo style background gradient from to "
    "side corner each other its their thing things sky".split()
    + [w for pair in CATEGORY_WORDS.values() for w in pair])


@dataclass(frozen=True)
class Asked:
    """One object phrase of a prompt: "two small blue apples in the top left corner"."""

    name: str  # a word of OBJECTS
    count: int = 1
    colour: str | None = None  # one of COLOUR_WORDS, None: whatever colours the object has
    size: str | None = None  # "small" or "big", None: any
    area: str | None = None  # one of AREAS, None: anywhere


@dataclass(frozen=True)
class Request:
    """What a prompt asks of a picture of the world, detail by detail."""

    things: tuple[Asked, ...] = ()
    relation: tuple[int, str, int] | None = None  # (thing, one of RELATION_PHRASES, other thing): "an apple above a cat"
    background: tuple[str, ...] = ()  # (colour,) or (top colour, bottom colour); () asks for none
    style: str | None = None  # a key of STYLE_WORDS
    unknown: tuple[str, ...] = field(default=())  # words that are not in the world's vocabulary


def plural(name: str) -> str:
    """The plural of an object word: "apples", "strawberries", "fish"."""
    last = name.split()[-1]
    return name[: len(name) - len(last)] + PLURALS.get(last, last + "es" if last.endswith(("s", "x", "ch", "sh")) else last + "s")


def article(words: str) -> str:
    """"a" or "an" before words."""
    return "an" if words[:1] in "aeiou8" else "a"


def describe(request: Request, rng: random.Random) -> str:
    """A prompt that read_prompt reads back as `request`, its words and order drawn from the world's alternatives.

    Training captions are written this way, so the models learn the words (synonyms, word and digit counts,
    places before or after their object, the style and background first or last) rather than one template.
    """
    phrases = []
    for index, thing in enumerate(request.things):
        noun = thing.name if thing.count > 1 else rng.choice([thing.name] + [s for s, w in SYNONYMS.items()
                                                                            if w == thing.name and rng.random() < 0.3])
        words = " ".join(w for w in (thing.size and rng.choice([s for s, v in SIZES.items() if v == thing.size]),
                                     thing.colour, plural(noun) if thing.count > 1 else noun) if w)
        if thing.count > 1:
            number = rng.choice([w for w, n in COUNTS.items() if n == thing.count])
            words = f"{number} {words}"
        else:
            words = f"{article(words)} {words}"
        if thing.area:
            place = rng.choice(AREA_PHRASES[thing.area])
            words = f"{place}, {words}" if index == 0 and len(request.things) == 1 and rng.random() < 0.3 \
                else f"{words} {place}"
        phrases.append(words)
    if request.relation:
        first, relation, second = request.relation
        text = f"{phrases[first]} {rng.choice(RELATION_PHRASES[relation])} {phrases[second]}"
    else:
        text = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    extras = []
    if request.background:
        colours = request.background
        extras.append(f"on {article(colours[0])} {colours[0]} background" if len(colours) == 1 else rng.choice(
            [f"on a {colours[0]} to {colours[1]} gradient", f"on a gradient from {colours[0]} to {colours[1]}"]))
    if request.style:
        word = STYLE_WORDS[request.style]
        extras.append(rng.choice([f"in {word} style", f"{word} style", f"in {article(word)} {word} style"]))
    rng.shuffle(extras)
    if extras and rng.random() < 0.25:
        return ", ".join(extras) + ", " + text
    return ", ".join([text, *extras])


def relation_of(first: tuple[float, float], second: tuple[float, float]) -> str:
    """Where centre `first` stands to centre `second` (x, y in pixels, y down): the larger of the two offsets decides."""
    dx, dy = first[0] - second[0], first[1] - second[1]
    if abs(dx) >= abs(dy):
        return "left of" if dx < 0 else "right of"
    return "above" if dy < 0 else "below"


def relation_holds(relation: str, first: tuple[float, float], second: tuple[float, float]) -> bool:
    """Whether `first` is `relation` `second`; "next to" is side by side (left of or right of)."""
    found = relation_of(first, second)
    return found in ("left of", "right of") if relation == "next to" else found == relation


def area_of(centre: tuple[float, float], size: int = SIZE) -> str:
    """The area (AREAS) a centre in pixels falls in."""
    column = min(2, int(3 * centre[0] / size))
    row = min(2, int(3 * centre[1] / size))
    return AREAS[3 * row + column]


def size_of(side: float) -> str:
    """"small", "medium" or "big" for an object whose larger side is `side` pixels."""
    return "small" if side <= SMALL_UP_TO else "big" if side >= BIG_FROM else "medium"


def _alternatives(phrases: list[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


_COLOUR = _alternatives(list(COLOUR_WORDS))
_STYLE_PHRASE = re.compile(rf"\b(?:in (?:an? )?)?({_alternatives(list(STYLE_WORDS.values()))})(?: style)?\b")
_BACKGROUND_PHRASE = re.compile(
    rf"\bon an? (?:({_COLOUR}) background|({_COLOUR}) (?:to|and) ({_COLOUR}) gradient|gradient from ({_COLOUR}) to ({_COLOUR}))\b")
_RELATION = {p: r for r, phrases in RELATION_PHRASES.items() for p in phrases}
_AREA = {p: a for a, phrases in AREA_PHRASES.items() for p in phrases}
_NOUNS = {**{w: w for w in OBJECTS}, **{plural(w): w for w in OBJECTS}, **SYNONYMS, **{plural(s): w for s, w in SYNONYMS.items()}}
_TOKEN = re.compile("|".join([
    rf"(?P<relation>\b(?:{_alternatives(list(_RELATION))})\b)",
    rf"(?P<area>\b(?:{_alternatives(list(_AREA))})\b)",
    rf"(?P<noun>\b(?:{_alternatives(list(_NOUNS))})\b)",
    rf"(?P<count>\b(?:{_alternatives(list(COUNTS))})\b)",
    rf"(?P<size>\b(?:{_alternatives(list(SIZES))})\b)",
    rf"(?P<colour>\b(?:{_COLOUR})\b)",
    r"(?P<word>[a-z0-9]+)",
]))


def read_prompt(prompt: str) -> Request:
    """The details a prompt asks for, read with the world's words.

    Counts, sizes and colours attach to the object word they precede; a place ("in the top left corner") to the
    object before it, or the next one when the prompt starts with it; a relation ("to the left of") links the
    objects on either side. The style and the background are read first, so "black and white" and "on a blue
    background" give their colour words to the picture, not to an object.
    """
    text = " ".join(prompt.lower().replace("-", " ").replace("colour", "color").split())
    style = None
    match = _STYLE_PHRASE.search(text)
    if match:
        style = next(s for s, w in STYLE_WORDS.items() if w == match.group(1))
        text = text[: match.start()] + " , " + text[match.end():]
    background: tuple[str, ...] = ()
    match = _BACKGROUND_PHRASE.search(text)
    if match:
        background = tuple(g for g in match.groups() if g)
        text = text[: match.start()] + " , " + text[match.end():]
    things: list[Asked] = []
    pending: dict = {}  # count, size and colour words waiting for their object word
    area_for_next = relation_word = None
    relation_from, relation = -1, None
    unknown: list[str] = []
    for token in _TOKEN.finditer(text):
        kind, value = token.lastgroup, token.group()
        if kind == "noun":
            things.append(Asked(_NOUNS[value], pending.get("count", 1), pending.get("colour"), pending.get("size"),
                                area_for_next))
            pending, area_for_next = {}, None
            if relation_word and relation is None and relation_from >= 0:
                relation = (relation_from, relation_word, len(things) - 1)
        elif kind == "area":
            if things and things[-1].area is None and not pending:
                last = things[-1]
                things[-1] = Asked(last.name, last.count, last.colour, last.size, _AREA[value])
            else:
                area_for_next = _AREA[value]
        elif kind == "relation":
            relation_from, relation_word = len(things) - 1, _RELATION[value]
        elif kind in ("count", "size", "colour"):
            pending[kind] = {"count": COUNTS, "size": SIZES}.get(kind, {value: value})[value]
        elif value not in GRAMMAR_WORDS:
            unknown.append(value)
    return Request(tuple(things), relation, background, style, tuple(dict.fromkeys(unknown)))
