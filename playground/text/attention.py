"""What a local model attended to while it chose one token of its reply.

In every layer, each position's vector is updated with a mix of the vectors of the positions it can see
(itself and those before it); the attention weights say how much of each, per head, and add up to 1. The
token at reply position i was chosen from the logits of the position just before it, so its weights are
that position's attention row over the prompt (in its chat format) and reply tokens 0 to i-1.
"""

import copy
from dataclasses import dataclass

import torch
from transformers import DynamicCache, PreTrainedModel

from playground import config
from playground.text import local
from playground.text.fast_llama import FastLlama
from playground.text.stream import chat_messages
from playground.validation import check_int, check_token_ids


@dataclass
class Attention:
    """The attention rows of the position that chose one reply token."""

    tokens: list[tuple[str, bool]]  # the n tokens that position could see: text, is special
    token: str  # the text of the chosen reply token
    weights: torch.Tensor  # [layers, heads, n] float32; each row is >= 0 and sums to 1

    def row(self, layer: object, head: object) -> torch.Tensor:
        """The n weights of layer (1 = first) for one head (1 = first), or their mean over heads for head -1."""
        layers, heads, _ = self.weights.shape
        layer = check_int("layer", layer, 1, layers)
        if head == -1:
            return self.weights[layer - 1].mean(0)
        try:
            head = check_int("head", head, 1, heads)
        except ValueError as error:
            raise ValueError(f"{error}; or -1 for the mean of all heads") from None
        return self.weights[layer - 1, head - 1]


def attention_weights(
    prompt: str,
    reply_token_ids: list[int],
    token_index: int,
    model: str = config.DEFAULT_TEXT_MODEL,
    system_prompt: str = "",
) -> Attention:
    """While the model chose reply token token_index, how much each layer and head attended to each earlier token.

    reply_token_ids are the tokens the model generated after the prompt (in its chat format).
    """
    messages = chat_messages(prompt, system_prompt)
    lm = local.load_model(model)
    reply = check_token_ids("reply_token_ids", reply_token_ids, lm.model.config.vocab_size, config.MAX_NEW_TOKENS)
    token_index = check_int("token_index", token_index, 0, len(reply) - 1)
    prompt_ids = local.input_ids(lm, messages)
    if len(prompt_ids) + len(reply) > lm.context_length:
        raise ValueError(
            f"prompt and reply are too long for {lm.name}: {len(prompt_ids)} prompt tokens + {len(reply)} reply tokens "
            f"exceed its context of {lm.context_length} tokens"
        )
    ids = torch.cat([prompt_ids, torch.tensor(reply[:token_index], dtype=torch.long)])
    chosen = lm.tokenizer.decode([reply[token_index]])
    return Attention(local.token_strip(lm, ids.tolist()), chosen, _last_rows(lm, ids))


def _eager_twin(model: PreTrainedModel) -> PreTrainedModel:
    """The same model (sharing its weights) with eager attention, which returns its weights where SDPA does not.

    The loaded model keeps SDPA: it is faster, and other requests generate with it while this one runs.
    """
    weights = {id(tensor): tensor for tensor in [*model.parameters(), *model.buffers()]}
    twin = copy.deepcopy(model, weights)
    twin.set_attn_implementation("eager")
    return twin


@torch.inference_mode()
def _last_rows(lm: local.LocalModel, ids: torch.Tensor) -> torch.Tensor:
    """[layers, heads, n]: the attention rows of the last of the n positions.

    All positions but the last go through the model as a prompt, the last one as a generation step: its row
    is all that is computed, where a whole pass would hold every layer's n x n weights.
    """
    cache = DynamicCache(config=lm.model.config)
    if len(ids) > 1:
        lm.model(ids[None, :-1].to(config.DEVICE), past_key_values=cache, use_cache=True)
    last = ids[None, -1:].to(config.DEVICE)
    if isinstance(lm.model, FastLlama):
        rows: list[torch.Tensor] = []
        lm.model(last, past_key_values=cache, attention_rows=rows)
    else:
        output = _eager_twin(lm.model)(last, past_key_values=cache, use_cache=True, output_attentions=True)
        rows = [layer[:, :, -1] for layer in output.attentions or ()]
    if not rows:
        raise ValueError(f"model {lm.name!r} does not report its attention weights")
    return torch.stack([row[0] for row in rows]).float().cpu()
