"""Trains the demo model and writes it in the Hugging Face layout, with its golden file and plots.

    tools/demo-model/train.sh [--steps N] [--out models/demo]

Steps: extract the text (corpus.py), train the tokenizer (bpe.py), train the model (model.py) in
float32 with the main and MTP losses and auxiliary-loss-free balancing, round the weights to BF16
and write them, compute the golden logits from the BF16 weights in float64, evaluate the held-out
words, draw the plots.
"""

import argparse
import collections
import gzip
import json
import math
import os
import random
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

import bpe
import corpus
from model import DeepseekV3, Moe

SPECIALS = ["<|bos|>", "<|eos|>", "<|User|>", "<|Assistant|>"]
BOS, EOS, USER, ASSISTANT = range(4)
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
    "{% elif message['role'] == 'user' %}{{ '<|User|>' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}{{ '<|Assistant|>' + message['content'] + eos_token }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|Assistant|>' }}{% endif %}"
)


def model_config(vocab):
    """config.json, with DeepSeek-V3's keys in the order its checkpoint ships them."""
    return {
        "architectures": ["DeepseekV3ForCausalLM"],
        "model_type": "deepseek_v3",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": BOS,
        "eos_token_id": EOS,
        "ep_size": 1,
        "hidden_act": "silu",
        "initializer_range": 0.02,
        "moe_layer_freq": 1,
        "num_nextn_predict_layers": 1,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-06,
        "scoring_func": "sigmoid",
        "topk_method": "noaux_tc",
        "norm_topk_prob": True,
        "seq_aux": True,
        "aux_loss_alpha": 0.0,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "vocab_size": vocab,
        "hidden_size": 192,
        "intermediate_size": 512,
        "moe_intermediate_size": 64,
        "num_hidden_layers": 3,
        "first_k_dense_replace": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "n_shared_experts": 1,
        "n_routed_experts": 16,
        "num_experts_per_tok": 4,
        "n_group": 4,
        "topk_group": 2,
        "routed_scaling_factor": 2.5,
        "q_lora_rank": 96,
        "kv_lora_rank": 64,
        "qk_nope_head_dim": 32,
        "qk_rope_head_dim": 16,
        "v_head_dim": 32,
        "rope_theta": 10000.0,
        "max_position_embeddings": 2048,
        "rope_scaling": None,
    }


def chat_ids(enc, user, assistant=None):
    ids = [BOS, USER] + enc.encode(user) + [ASSISTANT]
    return ids + enc.encode(assistant) + [EOS] if assistant is not None else ids


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ---------------------------------------------------------------- export


def bf16_round(t):
    return t.detach().float().to(torch.bfloat16).float()


def checkpoint_tensors(model):
    """HF name -> tensor, with the MTP module's copies of the embedding and head."""
    n = model.c["num_hidden_layers"]
    out = dict(model.state_dict())
    out["model.layers.%d.embed_tokens.weight" % n] = out["model.embed_tokens.weight"]
    out["model.layers.%d.shared_head.head.weight" % n] = out["lm_head.weight"]
    return out


def write_safetensors(path, tensors):
    """BF16, except the balancing bias in F32, as the real checkpoint stores it."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().float().contiguous()
        if name.endswith("e_score_correction_bias"):
            dtype, data = "F32", t.numpy().astype("<f4").tobytes()
        else:
            dtype, data = "BF16", t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_json(path, obj, indent=2):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent)
        f.write("\n")


def write_tokenizer(out, vocab, merges):
    bpe.write(os.path.join(out, "tokenizer.json"), vocab, merges, SPECIALS)
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": SPECIALS[BOS],
        "eos_token": SPECIALS[EOS],
        "pad_token": SPECIALS[EOS],
        "clean_up_tokenization_spaces": False,
        "legacy": True,
        "model_max_length": 2048,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": CHAT_TEMPLATE,
    })


# ---------------------------------------------------------------- training


def token_stream(enc, chats):
    ids = []
    for user, assistant in chats:
        ids += chat_ids(enc, user, assistant)
    return torch.tensor(ids, dtype=torch.long)


def train(model, stream, args):
    params = [p for p in model.parameters()]
    decay = [p for p in params if p.dim() == 2]
    rest = [p for p in params if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    window = args.seq + 1
    windows = stream[: len(stream) // window * window].view(-1, window)
    log("training: %d windows of %d tokens, at most %d steps of %d or %.1f minutes" % (
        len(windows), window, args.steps, args.batch, args.minutes))
    history = {"step": [], "main": [], "mtp": [], "tokens_per_s": [], "elapsed_s": []}
    early, late = None, collections.deque(maxlen=20)
    moes = model.moe_layers()
    start = time.time()
    seen, step, progress = 0, 0, 0.0
    while progress < 1.0:
        step += 1
        # The schedule runs on the larger of the step and the time fractions: on a loaded machine
        # the run ends on time, with fewer steps.
        progress = max(step / args.steps, (time.time() - start) / (60 * args.minutes))
        lr = args.lr * min(1.0, step / args.warmup)
        if step > args.warmup:
            lr = args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(progress, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr
        i = (step - 1) * args.batch % (len(windows) - args.batch)
        batch = windows[i: i + args.batch]
        logits, mtp = model(batch[:, :-1])
        v = logits.size(-1)
        main_loss = F.cross_entropy(logits.reshape(-1, v), batch[:, 1:].reshape(-1))
        mtp_loss = F.cross_entropy(mtp.reshape(-1, v), batch[:, 2:].reshape(-1))
        loss = main_loss + args.mtp_weight * mtp_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        # Auxiliary-loss-free balancing (V3 report 2.1.2): move each expert's bias by gamma
        # towards the mean load, by the sign of its load error.
        with torch.no_grad():
            for m in moes:
                load = m.load.float()
                m.gate.e_score_correction_bias += args.gamma * torch.sign(load.mean() - load)
        now = [m.load.float() for m in moes]
        if step <= 20:
            early = [a + b for a, b in zip(early, now)] if early else now
        late.append(now)
        seen += batch[:, :-1].numel()
        if step % args.log_every == 0 or progress >= 1.0:
            elapsed = time.time() - start
            history["step"].append(step)
            history["main"].append(main_loss.item())
            history["mtp"].append(mtp_loss.item())
            history["tokens_per_s"].append(seen / elapsed)
            history["elapsed_s"].append(elapsed)
            log("step %d loss %.3f mtp %.3f lr %.2e %.0f tokens/s %.0f s" % (
                step, main_loss.item(), mtp_loss.item(), lr, seen / elapsed, elapsed))
    last = [sum(x) for x in zip(*late)]
    loads = {"early": early, "late": last}
    history["wall_s"] = time.time() - start
    history["tokens"] = seen
    history["steps"] = step
    history["loads"] = {k: [(x / x.sum()).tolist() for x in v] for k, v in loads.items()}
    return history


# ---------------------------------------------------------------- golden, evaluation


def reload_bf16(c, tensors, dtype):
    """A model holding exactly the stored values (BF16-rounded; the bias as F32)."""
    m = DeepseekV3(c)
    state = {k: (v.detach().float() if k.endswith("e_score_correction_bias") else bf16_round(v)) for k, v in tensors.items()}
    n = c["num_hidden_layers"]
    del state["model.layers.%d.embed_tokens.weight" % n]
    del state["model.layers.%d.shared_head.head.weight" % n]
    m.load_state_dict(state)
    return m.to(dtype).eval()


def golden(model, enc, prompts, stride):
    """Logits of the main model (every position) and of the MTP module (every position but the
    last), at every stride-th vocabulary id, and in full at each prompt's last position."""
    out = {"vocab_stride": stride, "prompts": []}
    with torch.no_grad():
        for user, answer in prompts:
            tokens = chat_ids(enc, user) + enc.encode(answer)
            logits, mtp = model(torch.tensor([tokens]))
            out["prompts"].append({
                "user": user, "answer": answer, "tokens": tokens,
                "main_logits": [[round(x, 6) for x in row[::stride].tolist()] for row in logits[0]],
                "main_last_logits": [round(x, 6) for x in logits[0, -1].tolist()],
                "mtp_logits": [[round(x, 6) for x in row[::stride].tolist()] for row in mtp[0]],
                "mtp_last_logits": [round(x, 6) for x in mtp[0, -1].tolist()],
            })
    return out


def greedy(model, prompt, max_new):
    ids = list(prompt)
    drafts, hits = 0, 0
    with torch.no_grad():
        for _ in range(max_new):
            logits, mtp = model(torch.tensor([ids]))
            nxt = int(logits[0, -1].argmax())
            ids.append(nxt)
            if nxt == EOS:
                break
    # MTP acceptance on the finished sequence: the draft at i (from h_i, t_(i+1)) against t_(i+2).
    with torch.no_grad():
        _, mtp = model(torch.tensor([ids]))
    for i in range(len(prompt) - 1, len(ids) - 2):
        drafts += 1
        hits += int(mtp[0, i].argmax()) == ids[i + 2]
    return ids[len(prompt):], drafts, hits


def evaluate(model, enc, vocabulary, max_new=32):
    rows, total, known, drafts, hits = [], 0, 0, 0, 0
    for w in corpus.HELD_OUT:
        out, d, h = greedy(model, chat_ids(enc, corpus.question(w)), max_new)
        text = enc.decode([t for t in out if t != EOS])
        ws = corpus.words(text)
        k = sum(x in vocabulary for x in ws)
        rows.append({"word": w, "answer": text, "words": len(ws), "known": k})
        total, known, drafts, hits = total + len(ws), known + k, drafts + d, hits + h
    return {"answers": rows, "known_fraction": known / max(total, 1), "mtp_acceptance": hits / max(drafts, 1)}


def expert_loads(model, batch):
    """Per MoE layer, the share of routed slots per expert, with the learned bias and without it."""
    out = {}
    moes = model.moe_layers()
    with torch.no_grad():
        model(batch)
        out["with_bias"] = [(m.load.float() / m.load.sum()).tolist() for m in moes]
        saved = [m.gate.e_score_correction_bias.clone() for m in moes]
        for m in moes:
            m.gate.e_score_correction_bias.zero_()
        model(batch)
        out["without_bias"] = [(m.load.float() / m.load.sum()).tolist() for m in moes]
        for m, b in zip(moes, saved):
            m.gate.e_score_correction_bias.copy_(b)
    return out


def plots(history, loads, path_loss, path_load, layer_names):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history["step"], history["main"], label="main model (next token)")
    ax.plot(history["step"], history["mtp"], label="MTP module (token after next)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats)")
    ax.set_title("Training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path_loss, dpi=100)

    series = [("first 20 steps (bias ~0)", history["loads"]["early"]),
              ("last 20 steps (learned bias)", history["loads"]["late"]),
              ("trained, bias removed", loads["without_bias"]),
              ("trained, with bias", loads["with_bias"])]
    fig, axes = plt.subplots(1, len(layer_names), figsize=(4.2 * len(layer_names), 3.8), sharey=True)
    e = len(loads["with_bias"][0])
    width = 0.8 / len(series)
    for li, ax in enumerate(np.atleast_1d(axes)):
        for si, (label, data) in enumerate(series):
            ax.bar(np.arange(e) + (si - 1.5) * width, data[li], width, label=label)
        ax.axhline(1.0 / e, color="k", lw=0.8, ls="--")
        ax.set_title(layer_names[li])
        ax.set_xlabel("routed expert")
    np.atleast_1d(axes)[0].set_ylabel("share of routed slots")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle("Expert load before and after auxiliary-loss-free bias balancing")
    fig.tight_layout()
    fig.savefig(path_load, dpi=100)


# ---------------------------------------------------------------- main


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="models/demo")
    p.add_argument("--plots", default="tools/demo-model")
    p.add_argument("--steps", type=int, default=100000, help="at most this many steps")
    p.add_argument("--minutes", type=float, default=22.0, help="at most this much training time")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--mtp-weight", type=float, default=0.3)
    p.add_argument("--gamma", type=float, default=0.002, help="bias update speed of the load balancing")
    p.add_argument("--vocab", type=int, default=3072)
    p.add_argument("--passages", type=int, default=5000, help="passages of the novels among the chats")
    p.add_argument("--all-words", dest="common_words", action="store_false",
                   help="every WordNet lemma (77,197) instead of the 16,700 seen in its tagged corpus (more taxonomy)")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--state", help="also save the trained float32 state and history here (torch.save)")
    args = p.parse_args()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "2")))
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    chats = corpus.chats(args.seed, args.passages, args.common_words)
    log("%d chats (%d held-out words left out)" % (len(chats), len(corpus.HELD_OUT)))
    vocab, merges = bpe.train([u + " " + a for u, a in chats], args.vocab, SPECIALS)
    enc = bpe.Encoder(vocab, merges, SPECIALS)
    write_tokenizer(args.out, vocab, merges)
    stream = token_stream(enc, chats)
    log("tokenizer: %d ids; corpus %d tokens" % (len(vocab), len(stream)))

    c = model_config(len(vocab))
    model = DeepseekV3(c)
    stored = sum(t.numel() for t in checkpoint_tensors(model).values())
    log("parameters: %d trained, %d stored (with the MTP module's copies of embedding and head)" % (
        sum(p.numel() for p in model.parameters()), stored))
    history = train(model, stream, args)
    if args.state:
        torch.save({"model": model.state_dict(), "history": history}, args.state)

    tensors = checkpoint_tensors(model)
    write_safetensors(os.path.join(args.out, "model.safetensors"), tensors)
    write_json(os.path.join(args.out, "config.json"), c)
    exact = reload_bf16(c, tensors, torch.float64)
    examples = [(corpus.question(w), a) for w, a in corpus.wordnet_chats() if w in ("harbor", "quickly")]
    examples.append((corpus.question("lantern"), "A light"))
    write_json(os.path.join(args.out, "golden.json"), dict(
        golden(exact, enc, examples, 64),
        note="Logits of tools/demo-model/train.py's own PyTorch forward pass in float64 on the stored "
             "(BF16-rounded) weights; tokens = the chat template with the generation prompt, then the answer's tokens."),
        indent=None)

    vocabulary = set()
    for u, a in chats:
        vocabulary.update(corpus.words(u + " " + a))
    os.makedirs(os.path.join(args.out, "eval"), exist_ok=True)
    with gzip.open(os.path.join(args.out, "eval", "vocabulary.txt.gz"), "wt") as f:
        f.write("\n".join(sorted(vocabulary)) + "\n")
    with open(os.path.join(args.out, "eval", "held-out-words.txt"), "w") as f:
        f.write("\n".join(corpus.HELD_OUT) + "\n")
    fp32 = reload_bf16(c, tensors, torch.float32)
    result = evaluate(fp32, enc, vocabulary)
    probe = torch.tensor([chat_ids(enc, u, a)[:64] for u, a in chats[:32]
                          if len(chat_ids(enc, u, a)) >= 64][:8])
    loads = expert_loads(fp32, probe)
    layer_names = ["layer %d" % l for l in range(c["first_k_dense_replace"], c["num_hidden_layers"])] + [
        "MTP (layer %d)" % c["num_hidden_layers"]]
    plots(history, loads, os.path.join(args.plots, "loss.png"), os.path.join(args.plots, "expert-load.png"), layer_names)
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in ("model.safetensors", "tokenizer.json", "tokenizer_config.json", "config.json"))
    report = {
        "steps": history["steps"], "batch": args.batch, "seq": args.seq, "tokens": history["tokens"],
        "train_wall_s": round(history["wall_s"], 1), "tokens_per_s": round(history["tokens"] / history["wall_s"], 1),
        "total_wall_s": round(time.time() - t0, 1), "final_main_loss": history["main"][-1],
        "final_mtp_loss": history["mtp"][-1], "parameters_stored": stored, "model_bytes": size,
        "held_out_known_fraction": result["known_fraction"], "python_mtp_acceptance": result["mtp_acceptance"],
        "answers": result["answers"], "threads": torch.get_num_threads(),
    }
    write_json(os.path.join(args.plots, "training-report.json"), dict(report, history=history, expert_loads=loads))
    for r in result["answers"]:
        log("%s -> %s" % (r["word"], r["answer"]))
    log("held-out answers: %.1f%% known words; MTP greedy acceptance %.2f; %d bytes" % (
        100 * result["known_fraction"], result["mtp_acceptance"], size))


if __name__ == "__main__":
    main()
