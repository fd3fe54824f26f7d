"""A small DeepSeek-V3 in PyTorch with the Hugging Face parameter names, following DeepSeek's
reference inference/model.py: MLA (low-rank query, compressed latent KV, interleaved RoPE on the
rope heads), a dense first layer, then DeepSeekMoE layers (shared expert + fine-grained routed
experts, sigmoid router with e_score_correction_bias, group-limited top-k, normalised weights
times routed_scaling_factor), and one MTP module stored as layer num_hidden_layers.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_angles(c, length, dtype=torch.float32):
    """(cos, sin), each (length, dr/2), of the pairs (2i, 2i+1); no YaRN (rope_scaling is null)."""
    dr = c["qk_rope_head_dim"]
    freqs = 1.0 / (c["rope_theta"] ** (torch.arange(0, dr, 2, dtype=torch.float64) / dr))
    angles = torch.outer(torch.arange(length, dtype=torch.float64), freqs)
    return torch.cos(angles).to(dtype), torch.sin(angles).to(dtype)


def rotate(x, cos, sin):
    """Interleaved RoPE, as the reference's view_as_complex: x (B, T, H, dr)."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h = c["hidden_size"], c["num_attention_heads"]
        self.h, self.dn, self.dr, self.dv = h, c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
        self.kvr = c["kv_lora_rank"]
        self.q_a_proj = nn.Linear(d, c["q_lora_rank"], bias=False)
        self.q_a_layernorm = RMSNorm(c["q_lora_rank"], c["rms_norm_eps"])
        self.q_b_proj = nn.Linear(c["q_lora_rank"], h * (self.dn + self.dr), bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(d, self.kvr + self.dr, bias=False)
        self.kv_a_layernorm = RMSNorm(self.kvr, c["rms_norm_eps"])
        self.kv_b_proj = nn.Linear(self.kvr, h * (self.dn + self.dv), bias=False)
        self.o_proj = nn.Linear(h * self.dv, d, bias=False)
        self.scale = (self.dn + self.dr) ** -0.5

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))).view(b, t, self.h, self.dn + self.dr)
        q_nope, q_pe = q.split([self.dn, self.dr], dim=-1)
        q = torch.cat((q_nope, rotate(q_pe, cos, sin)), dim=-1)
        kv, k_pe = self.kv_a_proj_with_mqa(x).split([self.kvr, self.dr], dim=-1)
        k_pe = rotate(k_pe.unsqueeze(2), cos, sin)
        kv = self.kv_b_proj(self.kv_a_layernorm(kv)).view(b, t, self.h, self.dn + self.dv)
        k_nope, v = kv.split([self.dn, self.dv], dim=-1)
        k = torch.cat((k_nope, k_pe.expand(-1, -1, self.h, -1)), dim=-1)
        scores = torch.einsum("bthd,bshd->bhts", q, k) * self.scale
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        scores = scores.masked_fill(mask, float("-inf")).softmax(dim=-1)
        out = torch.einsum("bhts,bshd->bthd", scores, v)
        return self.o_proj(out.flatten(2))


class Mlp(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.gate_proj = nn.Linear(d, inter, bias=False)
        self.up_proj = nn.Linear(d, inter, bias=False)
        self.down_proj = nn.Linear(inter, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Gate(nn.Module):
    """The V3 router. Experts are chosen on sigmoid scores plus the balancing bias; their weights
    come from the scores without it."""

    def __init__(self, c):
        super().__init__()
        self.e, self.k = c["n_routed_experts"], c["num_experts_per_tok"]
        self.groups, self.keep = c["n_group"], c["topk_group"]
        self.scale = c["routed_scaling_factor"]
        self.weight = nn.Parameter(torch.empty(self.e, c["hidden_size"]))
        self.register_buffer("e_score_correction_bias", torch.zeros(self.e, dtype=torch.float32))

    def forward(self, x):
        scores = F.linear(x, self.weight).sigmoid()
        biased = scores + self.e_score_correction_bias.to(scores.dtype)
        group = biased.view(x.size(0), self.groups, -1).topk(2, dim=-1)[0].sum(dim=-1)
        kept = group.topk(self.keep, dim=-1)[1]
        drop = torch.ones(x.size(0), self.groups, dtype=torch.bool, device=x.device).scatter_(1, kept, False)
        biased = biased.view(x.size(0), self.groups, -1).masked_fill(drop.unsqueeze(-1), float("-inf")).flatten(1)
        chosen = biased.topk(self.k, dim=-1)[1]
        weights = scores.gather(1, chosen)
        weights = weights / weights.sum(dim=-1, keepdim=True) * self.scale
        return weights, chosen


class Moe(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, inter = c["hidden_size"], c["moe_intermediate_size"]
        self.gate = Gate(c)
        self.experts = nn.ModuleList(Mlp(d, inter) for _ in range(c["n_routed_experts"]))
        self.shared_experts = Mlp(d, inter * c["n_shared_experts"])
        self.load = None  # tokens per expert in the last forward

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        weights, chosen = self.gate(x)
        self.load = torch.bincount(chosen.flatten(), minlength=len(self.experts)).detach()
        y = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            rows, slot = torch.where(chosen == e)
            if rows.numel():
                y.index_add_(0, rows, expert(x[rows]) * weights[rows, slot, None])
        return (y + self.shared_experts(x)).view(shape)


class Block(nn.Module):
    def __init__(self, c, moe):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = Moe(c) if moe else Mlp(c["hidden_size"], c["intermediate_size"])

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class SharedHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class MtpBlock(Block):
    """The MTP module (depth 1): x_i = eh_proj([enorm(embed(t_(i+1))); hnorm(h_i)]) with h_i the
    main model's final normed hidden state, one MoE block, then shared_head.norm and the main
    model's lm_head."""

    def __init__(self, c):
        super().__init__(c, moe=True)
        d = c["hidden_size"]
        self.enorm = RMSNorm(d, c["rms_norm_eps"])
        self.hnorm = RMSNorm(d, c["rms_norm_eps"])
        self.eh_proj = nn.Linear(2 * d, d, bias=False)
        self.shared_head = SharedHead(c)


class Inner(nn.Module):
    def __init__(self, c):
        super().__init__()
        n = c["num_hidden_layers"]
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(
            [Block(c, moe=l >= c["first_k_dense_replace"]) for l in range(n)] + [MtpBlock(c)])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class DeepseekV3(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Inner(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * (c["num_hidden_layers"] + 1)) if name.endswith(("o_proj.weight", "down_proj.weight")) else 0.02
                nn.init.normal_(p, std=std)

    def moe_layers(self):
        return [l.mlp for l in self.model.layers if isinstance(l.mlp, Moe)]

    def forward(self, tokens):
        """tokens (B, T): main logits (B, T, V) predicting t+1 and MTP logits (B, T-1, V)
        predicting t+2 (position i uses h_i and token i+1)."""
        n = self.c["num_hidden_layers"]
        t = tokens.size(1)
        dtype = self.lm_head.weight.dtype
        cos, sin = rope_angles(self.c, t, dtype)
        x = self.model.embed_tokens(tokens)
        for layer in self.model.layers[:n]:
            x = layer(x, cos, sin)
        h = self.model.norm(x)
        logits = self.lm_head(h)
        mtp = self.model.layers[n]
        e = self.model.embed_tokens(tokens[:, 1:])
        y = mtp.eh_proj(torch.cat((mtp.enorm(e), mtp.hnorm(h[:, :-1])), dim=-1))
        y = mtp(y, cos[: t - 1], sin[: t - 1])
        return logits, self.lm_head(mtp.shared_head.norm(y))
