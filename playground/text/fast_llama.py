"""A compact Llama decoder for fast one-request generation on CPU.

The same maths as transformers' LlamaForCausalLM, built from a loaded model, with fewer and fused
operations and low-bit weights for one-token steps. Why: at 135 M parameters a decode step is
dominated by per-operation overhead and by reading the weights (benchmarks/bench_text.py measures
the gain against the fp32 transformers model and checks perplexity).

How it keeps quality:
* one-token steps use weight-only int4 matmuls in groups of 32 with a scale and a minimum — the grid
  of the Q4_1 GGUF the embedded model comes from, so re-quantising recovers its 4-bit values almost
  exactly; the output layer (tied to the embedding, Q8_0 in the GGUF) uses per-row int8;
* prompts (several tokens at once) use bf16 weights, where the low-bit kernels are slow (their products run in
  float32 on a CPU without bfloat16 hardware, where torch emulates bf16: playground.precision);
* activations are bf16, which those kernels need; the logits come back as float32.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import DynamicCache, PreTrainedModel

from playground.precision import bfloat16_is_fast

GROUP = 32  # int4 group size (the GGUF Q4_1 block)
BF16 = torch.bfloat16
PROMPTS_IN_BFLOAT16 = bfloat16_is_fast("cpu")  # else a prompt's products run in float32 (playground.precision)


def supports(model: PreTrainedModel) -> bool:
    """Whether model is a plain Llama that FastLlama reproduces exactly (apart from weight rounding)."""
    c = model.config
    rope = (getattr(c, "rope_parameters", None) or {}).get("rope_type", "default")
    return (
        c.model_type == "llama"
        and not c.attention_bias
        and not getattr(c, "mlp_bias", False)
        and c.hidden_act == "silu"
        and rope == "default"
        and getattr(c, "pretraining_tp", 1) == 1
        and c.hidden_size % GROUP == 0
        and c.intermediate_size % GROUP == 0
    )


@dataclass
class _Linear:
    """One weight matrix in two forms: bf16 for prompts, packed low-bit for one-token steps."""

    full: torch.Tensor  # [out, in] bf16
    packed: torch.Tensor  # int4 pack or int8 matrix
    scales: torch.Tensor  # int4: [in / GROUP, out, 2] scale and offset; int8: [out] scale
    bits: int

    @classmethod
    def int4(cls, weight: torch.Tensor) -> "_Linear":
        out, inp = weight.shape
        groups = weight.float().view(out, inp // GROUP, GROUP)
        low, high = groups.amin(-1), groups.amax(-1)
        scale = ((high - low) / 15).clamp_min(1e-12)
        q = torch.round((groups - low[..., None]) / scale[..., None]).clamp(0, 15).to(torch.int32).view(out, inp)
        packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1)
        # the kernel computes (q - 8) * scale + offset
        scales = torch.stack([scale.t(), (low + 8 * scale).t()], -1).contiguous().to(BF16)
        return cls(weight.to(BF16), packed, scales, 4)

    @classmethod
    def int8(cls, weight: torch.Tensor) -> "_Linear":
        scale = (weight.float().abs().amax(1) / 127).clamp_min(1e-12)
        packed = torch.round(weight.float() / scale[:, None]).clamp(-127, 127).to(torch.int8)
        return cls(weight.to(BF16), packed, scale.to(BF16), 8)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 1:
            if PROMPTS_IN_BFLOAT16:
                return F.linear(x, self.full)
            return F.linear(x.float(), self.full.float()).to(BF16)  # 4x faster than emulated bf16 (AVX2 alone)
        if self.bits == 4:
            return torch.ops.aten._weight_int4pack_mm_for_cpu(x, self.packed, GROUP, self.scales)
        return torch._weight_int8pack_mm(x, self.packed, self.scales)


def _rms_norm(x: torch.Tensor, doubled_weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm as one native kernel: LayerNorm of [x, -x] has mean 0 and variance mean(x²)."""
    size = x.shape[-1]
    return F.layer_norm(torch.cat([x, -x], -1), (2 * size,), doubled_weight, None, eps)[..., :size]


@dataclass
class _Layer:
    norm1: torch.Tensor  # RMSNorm weights, doubled for _rms_norm
    norm2: torch.Tensor
    eps: float
    qkv: _Linear  # q (pre-scaled by 1/sqrt(head_dim)), k and v in one matrix
    o: _Linear
    gate_up: _Linear  # gate and up projections in one matrix
    down: _Linear


@dataclass
class Output:
    logits: torch.Tensor  # [batch, tokens, vocabulary] float32


class FastLlama:
    """Callable like the transformers model for generation: model(input_ids, past_key_values=cache).logits.

    Takes the prompt in one call (empty cache) and then one token per call; no padding masks. The
    weights are read-only, so threads may share it, each with its own DynamicCache.
    """

    def __init__(self, model: PreTrainedModel):
        self.config, self.generation_config = model.config, model.generation_config
        c = model.config
        self.heads, self.kv_heads = c.num_attention_heads, c.num_key_value_heads
        self.head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
        self.intermediate = c.intermediate_size
        self.layers = []
        for layer in model.model.layers:
            attention, mlp = layer.self_attn, layer.mlp
            qkv = torch.cat([attention.q_proj.weight * attention.scaling, attention.k_proj.weight, attention.v_proj.weight])
            self.layers.append(
                _Layer(
                    layer.input_layernorm.weight.detach().to(BF16).repeat(2),
                    layer.post_attention_layernorm.weight.detach().to(BF16).repeat(2),
                    layer.input_layernorm.variance_epsilon,
                    _Linear.int4(qkv.detach()),
                    _Linear.int4(attention.o_proj.weight.detach()),
                    _Linear.int4(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]).detach()),
                    _Linear.int4(mlp.down_proj.weight.detach()),
                )
            )
        self.embedding = model.model.embed_tokens.weight.detach().to(BF16)
        self.output = _Linear.int8(model.lm_head.weight.detach())
        self.norm = model.model.norm.weight.detach().to(BF16).repeat(2)
        self.norm_eps = model.model.norm.variance_epsilon
        # rotary tables in transformers' rotate_half layout: x*cos + roll(x, d/2)*signed_sin
        rotary = model.model.rotary_emb
        angles = torch.outer(torch.arange(c.max_position_embeddings, dtype=torch.float32), rotary.inv_freq.float())
        angles = torch.cat([angles, angles], -1)
        scale = float(getattr(rotary, "attention_scaling", 1.0))
        half = self.head_dim // 2
        self.cos = (angles.cos() * scale).to(BF16)
        self.signed_sin = torch.cat([-angles.sin()[:, :half], angles.sin()[:, half:]], -1).mul(scale).to(BF16)

    @torch.inference_mode()
    def __call__(
        self,
        input_ids: torch.Tensor,
        past_key_values: DynamicCache | None = None,
        use_cache: bool = True,
        attention_rows: list[torch.Tensor] | None = None,
    ) -> Output:
        """The logits of every position; a one-token call also appends to attention_rows, when given, each layer's
        attention weights of that token over all positions so far ([batch, heads, positions] float32)."""
        batch, length = input_ids.shape
        heads, kv_heads, head_dim = self.heads, self.kv_heads, self.head_dim
        past = past_key_values.get_seq_length() if past_key_values is not None else 0
        if past and length > 1:
            raise ValueError("FastLlama takes the prompt in one call, then one token per call")
        if attention_rows is not None and length > 1:
            raise ValueError("FastLlama gives attention rows for one-token calls only")
        if past + length > self.cos.shape[0]:
            raise ValueError(f"sequence of {past + length} tokens exceeds the model's {self.cos.shape[0]} positions")
        cos = self.cos[past : past + length].view(1, length, 1, head_dim)
        sin = self.signed_sin[past : past + length].view(1, length, 1, head_dim)
        x = self.embedding[input_ids].view(batch * length, -1)
        qk_width = (heads + kv_heads) * head_dim
        for index, layer in enumerate(self.layers):
            qkv = layer.qkv(_rms_norm(x, layer.norm1, layer.eps))
            qk = qkv[:, :qk_width].view(batch, length, heads + kv_heads, head_dim)
            qk = torch.addcmul(qk * cos, torch.roll(qk, head_dim // 2, -1), sin).transpose(1, 2)
            q, k = qk[:, :heads], qk[:, heads:]
            v = qkv[:, qk_width:].view(batch, length, kv_heads, head_dim).transpose(1, 2)
            if past_key_values is not None:
                k, v = past_key_values.update(k, v, index)
            if length == 1:  # one query: three plain operations beat SDPA's fixed cost; q heads grouped per kv head
                # in float32: bf16 matmuls go through oneDNN, which builds and keeps a kernel for every new length of
                # the cache (~0.5 MB each: +520 MB of RSS for one 512-token reply, never freed); float32 is faster too
                q, k, v = q.float(), k.float(), v.float()
                weights = torch.softmax(q.reshape(batch, kv_heads, heads // kv_heads, head_dim) @ k.transpose(-1, -2), -1)
                attended = (weights @ v).reshape(batch, heads * head_dim).to(BF16)
                if attention_rows is not None:  # head h reads kv head h // (heads / kv_heads), as in transformers
                    attention_rows.append(weights.reshape(batch, heads, -1))
            else:
                attended = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0, enable_gqa=True)
                attended = attended.transpose(1, 2).reshape(batch * length, heads * head_dim)
            x = x + layer.o(attended)
            gate_up = layer.gate_up(_rms_norm(x, layer.norm2, layer.eps))
            x = x + layer.down(F.silu(gate_up[:, : self.intermediate]) * gate_up[:, self.intermediate :])
        logits = self.output(_rms_norm(x, self.norm, self.norm_eps))
        return Output(logits.view(batch, length, -1).float())
