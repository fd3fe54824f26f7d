"""A byte-level BPE tokenizer in the Hugging Face tokenizer.json layout (GPT-2's byte alphabet and
word pattern), trained here because Debian packages no tokenizers library.

Training counts the pre-split words once, then repeatedly merges the most frequent adjacent pair,
updating only the words that contain it. Encoding applies the merges by rank, as Hugging Face's
BPE model does, so the ids match what the engine's tokenizer computes from the written file.
"""

import collections
import heapq
import json
import re

# GPT-2's pattern with ASCII classes: the corpus is printable ASCII, where they equal \p{L}, \p{N}, \s.
WORDS = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def byte_alphabet():
    """GPT-2's bytes_to_unicode: each byte as a printable character."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


BYTES = byte_alphabet()


def pre_split(text):
    return ["".join(BYTES[b] for b in w.encode("utf-8")) for w in WORDS.findall(text)]


def train(texts, vocab_size, specials):
    """Returns (vocab {token: id}, merges [(a, b)]): specials first, then the 256 bytes, then merges."""
    counts = collections.Counter()
    for t in texts:
        counts.update(pre_split(t))
    words = [list(w) for w in counts]
    freq = list(counts.values())
    pairs = collections.Counter()
    where = collections.defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pairs[a, b] += freq[i]
            where[a, b].add(i)
    heap = [(-c, p) for p, c in pairs.items()]
    heapq.heapify(heap)
    merges = []
    target = vocab_size - len(specials) - 256
    while len(merges) < target and heap:
        c, p = heapq.heappop(heap)
        if pairs.get(p, 0) != -c:
            if pairs.get(p, 0) > 0:
                heapq.heappush(heap, (-pairs[p], p))
            continue
        if -c < 2:
            break
        merges.append(p)
        a, b = p
        joined = a + b
        changed = set()
        for i in list(where[p]):
            w = words[i]
            f = freq[i]
            for x, y in zip(w, w[1:]):
                pairs[x, y] -= f
                changed.add((x, y))
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(joined)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                pairs[x, y] += f
                where[x, y].add(i)
                changed.add((x, y))
        del pairs[p]
        del where[p]
        for q in changed:
            if pairs.get(q, 0) > 0:
                heapq.heappush(heap, (-pairs[q], q))
    vocab = {s: i for i, s in enumerate(specials)}
    for b in range(256):
        vocab[BYTES[b]] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    return vocab, merges


class Encoder:
    """Encodes text with a trained vocabulary, special tokens split out first."""

    def __init__(self, vocab, merges, specials):
        self.vocab = vocab
        self.ranks = {p: r for r, p in enumerate(merges)}
        self.specials = specials
        self.split = re.compile("(" + "|".join(re.escape(s) for s in specials) + ")")
        self.cache = {}
        self.inverse = {i: t for t, i in vocab.items()}
        self.unbytes = {c: b for b, c in BYTES.items()}

    def word(self, w):
        if w in self.cache:
            return self.cache[w]
        parts = list(w)
        while len(parts) > 1:
            best = min(range(len(parts) - 1), key=lambda i: self.ranks.get((parts[i], parts[i + 1]), 1 << 30))
            if (parts[best], parts[best + 1]) not in self.ranks:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        ids = [self.vocab[p] for p in parts]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        ids = []
        for piece in self.split.split(text):
            if piece in self.vocab and piece in self.specials:
                ids.append(self.vocab[piece])
            elif piece:
                for w in pre_split(piece):
                    ids.extend(self.word(w))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            t = self.inverse[i]
            if t in self.specials:
                out += t.encode("utf-8")
            else:
                out += bytes(self.unbytes[c] for c in t)
        return out.decode("utf-8", "replace")


def tokenizer_json(vocab, merges, specials):
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for s in specials
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab, "merges": [[a, b] for a, b in merges],
        },
    }


def write(path, vocab, merges, specials):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab, merges, specials), f, ensure_ascii=False, indent=1)
        f.write("\n")
