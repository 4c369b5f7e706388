"""Specificity: how many concrete details a prompt states, counted by word lists anyone can read.

The lesson of seed text 000 made measurable: the more specific a prompt, the closer the result comes to what was
meant. Every counted word is reported with its category (CATEGORIES below). The most detailed prompt of a
comparison is its reference, and detail_phrases finds the details that "which words mattered" drops one at a time.
"""

import re
from dataclasses import dataclass

from playground.image.pictures import COLOUR_WORDS

# Specificity: a word counts as a detail of the first category whose list holds it (or one of its
# hyphenated parts); other words count as the subject, except stop words (skipped) and vague words
# (shown as not counted). "-shaped" words are shapes, words with a number in them are counts.
NUMBERS = frozenset("one two three four five six seven eight nine ten eleven twelve dozen hundred".split())
CATEGORIES: dict[str, frozenset[str]] = {
    "count": NUMBERS | frozenset("single pair couple several many few both double triple twin twins".split()),
    "colour": frozenset(COLOUR_WORDS) | frozenset(
        "gray violet gold golden silver beige cyan magenta turquoise teal navy crimson scarlet maroon olive lime "
        "dark light pale bright pastel colourful colorful multicoloured multicolored rainbow".split()),
    "size": frozenset("tiny small little big large huge giant tall short long wide narrow thin thick fat mini "
                      "miniature oversized".split()),
    "shape": frozenset("round square circular oval triangular rectangular curved pointed spiky wavy straight "
                       "star-shaped heart-shaped".split()),
    "expression": frozenset("smiling grinning laughing crying sad happy angry winking surprised sleeping sleepy "
                            "kissing frowning worried shocked scared thinking blushing cheerful grumpy tearful "
                            "joyful smirking yawning".split()),
    "material": frozenset("wooden metal metallic glass furry fluffy fuzzy striped spotted dotted checkered plaid "
                          "leather stone paper shiny glossy matte transparent sparkling".split()),
    "style": frozenset("cartoon flat pixel realistic photo photograph photorealistic watercolour watercolor sketch "
                       "drawing painting 3d emoji minimalist outline icon vintage retro anime neon cute "
                       "formal informal funny friendly calm serious playful poetic rhyming humorous warm "
                       "simple technical".split()),
    "composition": frozenset("close-up closeup centered centred background foreground left right top bottom side "
                             "front back view above below behind beside under over on inside between near "
                             "corner middle facing portrait landscape".split()),
    "format": frozenset("line lines sentence sentences word words paragraph paragraphs list bullet bullets haiku "
                        "limerick slogan title headline one-line steps brief".split()),
}
STOP_WORDS = frozenset(
    "a an the of and or with in at to for from by about as is are be it its this that these those some any "
    "me my your please write tell describe explain make draw create generate give show".split())
VAGUE_WORDS = frozenset("thing things something stuff nice beautiful good great cool amazing awesome pretty "
                        "interesting kind sort type image picture illustration very really".split())
# Words that start a new detail phrase ("a red apple | with a leaf | on a plate"), and commas.
CONNECTORS = frozenset("with and on in under over behind beside near above below inside holding wearing "
                       "about for without at next".split())
# Connectors of several words: "a red apple | to the left of a blue heart".
_LONG_CONNECTOR = re.compile(r"\b(?:to the (?:left|right) of|(?:left|right) of)\b", re.IGNORECASE)
_WORD = re.compile(r"[0-9A-Za-z]+(?:['’-][0-9A-Za-z]+)*|,")


@dataclass
class Specificity:
    """The details a prompt states: each counted word with its category, and the vague words not counted."""

    words: list[tuple[str, str]]  # (word, category) in the prompt's order
    not_counted: list[str]

    @property
    def score(self) -> int:
        return len(self.words)

    def by_category(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for word, category in self.words:
            grouped.setdefault(category, []).append(word)
        return grouped

    def as_dict(self) -> dict:
        return {"score": self.score, "words": self.by_category(), "not_counted": self.not_counted}


def word_category(word: str) -> str | None:
    """The detail category of one word, "vague" for words that say little, None for stop words."""
    word = word.lower().replace("’", "'")
    if word in STOP_WORDS:
        return None
    parts = word.split("-")
    if any(part.isdigit() or part in NUMBERS for part in parts):
        return "count"
    if word.endswith("-shaped"):
        return "shape"
    for category, words in CATEGORIES.items():
        if word in words or any(part in words for part in parts):
            return category
    return "vague" if word in VAGUE_WORDS else "subject"


def specificity(prompt: str) -> Specificity:
    """Count the prompt's concrete details by the rules above (transparent: every counted word is listed)."""
    words: list[tuple[str, str]] = []
    vague: list[str] = []
    for match in _WORD.finditer(prompt):
        category = word_category(match.group()) if match.group() != "," else None
        if category == "vague":
            vague.append(match.group())
        elif category is not None:
            words.append((match.group(), category))
    return Specificity(words, vague)


def most_detailed(prompts: list[str]) -> str:
    """The prompt with the highest specificity (the later one on a tie: columns go from vague to detailed)."""
    return max(reversed(prompts), key=lambda p: specificity(p).score)


def _counted(token: str) -> bool:
    return token != "," and word_category(token) not in (None, "vague")


def _without(prompt: str, start: int, end: int) -> str:
    """The prompt with the characters start:end taken out, spaces, commas and "a"/"an" mended."""
    shorter = prompt[:start] + " " + prompt[end:]
    shorter = re.sub(r",\s*([,.!?]|$)", r"\1", re.sub(r"\s+([,.!?])", r"\1", shorter))
    shorter = re.sub(r"\s+", " ", shorter).strip(" ,")
    shorter = re.sub(r"\b([Aa])n ([^aeiouAEIOU\W])", r"\1 \2", shorter)
    return re.sub(r"\b([Aa]) ([aeiouAEIOU])", r"\1n \2", shorter)


def detail_phrases(prompt: str) -> list[tuple[str, str]]:
    """The details that can be dropped one at a time, each with the prompt without it: every counted word
    before the first comma or connector except the subject it describes (the last subject word there),
    then every later phrase that holds a counted word, as a whole ("with heart-shaped eyes", ", fruit")."""
    segments: list[list[re.Match]] = [[]]
    long_connectors = {m.start() for m in _LONG_CONNECTOR.finditer(prompt)}
    for match in _WORD.finditer(prompt):
        starts = match.group() == "," or match.group().lower() in CONNECTORS or match.start() in long_connectors
        if starts and segments[-1]:
            segments.append([])
        segments[-1].append(match)
    head = [m for m in segments[0] if _counted(m.group())]
    subjects = [i for i, m in enumerate(head) if word_category(m.group()) == "subject"]
    spans = [(m.start(), m.end()) for i, m in enumerate(head) if not subjects or i != subjects[-1]]
    spans += [(s[0].start(), s[-1].end()) for s in segments[1:] if any(_counted(m.group()) for m in s)]
    return [(prompt[start:end], _without(prompt, start, end)) for start, end in spans]

