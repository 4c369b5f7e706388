"""Make it detailed: a text backend rewrites a vague prompt as a detailed one from a few examples, and word_diff
marks the words it added and removed."""

import difflib

from playground import config, text
from playground.compare.runs import MODALITIES, check_prompt
from playground.openai_client import check_endpoint
from playground.text import local
from playground.text.sampling import SamplingSettings
from playground.validation import check_choice

# Few-shot examples of vague → detailed for each modality.
EXPANSION_INSTRUCTIONS = {
    "image": "Rewrite a short picture description as a detailed one: keep its subject and add the colour, the "
             "expression or shape, and a small detail. Reply with the description only, on one line.",
    "text": "Rewrite a short request as a detailed one: keep its topic and add the length, the audience, the tone "
            "and the format. Reply with the request only, on one line.",
}
EXPANSION_EXAMPLES = {
    "image": [("food", "a red apple"), ("heart", "a blue heart, love"),
              ("smiley", "a yellow smiling face with heart-eyes"), ("an animal", "a brown dog face with floppy ears")],
    "text": [("Write a poem.", "Write a four-line rhyming poem about rain on a window, in a calm tone."),
             ("Tell me about cats.", "Explain in three short sentences why cats purr, for a ten-year-old."),
             ("Write a slogan.", "Write a one-line slogan for a small bakery that sells warm bread, friendly and funny.")],
}
EXPANSION_REQUEST = "Make this more detailed: {}"  # each example's and the prompt's user turn
EXPANSION_TOKENS = 48


def expand_prompt(prompt: str, modality: str = "image", backend: str = "local", model: str = "", base_url: str = "",
                  api_key: str = "") -> str:
    """A detailed version of a vague prompt, written by a text backend from a few examples (greedy: the same
    prompt gives the same expansion)."""
    prompt = check_prompt(prompt)
    modality = check_choice("modality", modality, MODALITIES)
    backend = check_choice("backend", backend, text.BACKENDS)
    base_url, api_key = check_endpoint(base_url, api_key)
    # no repetition penalty: the detailed prompt repeats the vague one's words ("a face" -> "a smiling ... face")
    settings = SamplingSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=EXPANSION_TOKENS)
    examples = EXPANSION_EXAMPLES[modality]
    model = text.chosen_model(backend, model)
    if backend == "local":  # small local models follow examples given as earlier turns far better than listed ones
        messages = [{"role": "system", "content": EXPANSION_INSTRUCTIONS[modality]}]
        for vague, detailed in examples:
            messages += [{"role": "user", "content": EXPANSION_REQUEST.format(vague)}, {"role": "assistant", "content": detailed}]
        stream = local.stream_chat([*messages, {"role": "user", "content": EXPANSION_REQUEST.format(prompt)}], model, settings)
    else:
        listed = "\n".join(f"{vague} -> {detailed}" for vague, detailed in examples)
        system = f"{EXPANSION_INSTRUCTIONS[modality]}\nExamples:\n{listed}"
        stream = text.stream_text(EXPANSION_REQUEST.format(prompt), backend, model, system, settings, base_url, api_key)
    lines = [line.strip().strip("\"'`").strip() for line in stream.text().splitlines()]
    detailed = next((line for line in lines if line), "")[: config.MAX_COMPARE_PROMPT_CHARS]
    if not detailed:
        raise ValueError(f"the {backend} model wrote no detailed prompt for {prompt!r}: try again, or another model")
    return detailed


def word_diff(before: str, after: str) -> list[tuple[str, str | None]]:
    """Words of after marked "added" where before lacks them, and words of before dropped marked "removed"
    (case-insensitive); what HighlightedText shows under an expanded prompt."""
    old, new = before.split(), after.split()
    spans: list[tuple[str, str | None]] = []
    matcher = difflib.SequenceMatcher(a=[w.lower() for w in old], b=[w.lower() for w in new], autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            spans += [(word + " ", "removed") for word in old[a0:a1]]
        if op in ("insert", "replace"):
            spans += [(word + " ", "added") for word in new[b0:b1]]
        if op == "equal":
            spans += [(word + " ", None) for word in new[b0:b1]]
    return spans

