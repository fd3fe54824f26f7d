"""The demo model's text: WordNet 3.0 definitions as chats, and passages of Jane Austen's novels.

WordNet comes from Debian's wordnet-base (/usr/share/wordnet), the novels from r-cran-janeaustenr,
whose data is an R lazy-load database: an index (gzip + R serialisation) of offsets into a file of
zlib-compressed, R-serialised character vectors, one per novel. The few R types those files use
are decoded here.
"""

import gzip
import random
import re
import struct
import unicodedata
import zlib

WORDNET = "/usr/share/wordnet"
AUSTEN = "/usr/lib/R/site-library/janeaustenr/data/Rdata"
POS = ("noun", "verb", "adj", "adv")

# Asked in the evaluation, never in a training chat (they may still occur inside definitions).
HELD_OUT = (
    "lantern", "meadow", "whisper", "orchard", "pebble", "anchor", "blanket", "candle", "cottage",
    "dagger", "feather", "glacier", "hammer", "island", "jacket", "kettle", "ladder", "mirror",
    "needle", "violin",
)


def ascii_text(s):
    """Text reduced to printable ASCII and newlines: the tokenizer's pre-split is then the same
    with Python's re as with the Unicode classes the engine's ByteLevel pattern uses."""
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    s = s.replace("\u2014", "--").replace("\u2013", "-").replace("_", " ")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^\x20-\x7e\n]", " ", s)


def question(word):
    return "What does %s mean?" % word


def sentence(s):
    s = s.strip()
    return s[:1].upper() + s[1:] + ("" if s.endswith((".", "!", "?")) else ".")


def _synsets(pos):
    """offset -> (definition, examples) of data.<pos>."""
    out = {}
    with open("%s/data.%s" % (WORDNET, pos), encoding="latin-1") as f:
        for line in f:
            if line.startswith("  ") or " | " not in line:
                continue
            gloss = line.split(" | ", 1)[1].strip()
            definition = re.split(r';\s*"', gloss)[0].strip().rstrip(";").strip()
            examples = re.findall(r'"([^"]+)"', gloss)
            out[line.split(" ", 1)[0]] = (ascii_text(definition), [ascii_text(e) for e in examples])
    return out


def wordnet_chats(common=False):
    """(word, answer) for every lower-case single-word lemma: the gloss of its most frequent sense
    (the first offset in index.<pos>) in the part of speech whose senses are seen most often in
    WordNet's tagged corpus (then: with the most senses; then noun, verb, adjective, adverb).
    With `common`, only lemmas that occur in the tagged corpus at all."""
    best = {}
    for rank, pos in enumerate(POS):
        synsets = _synsets(pos)
        with open("%s/index.%s" % (WORDNET, pos), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                fields = line.split()
                lemma, count = fields[0], int(fields[2])
                tagged = int(fields[-count - 1])
                if not re.fullmatch(r"[a-z]{3,}", lemma):
                    continue
                definition = synsets[fields[-count]][0]
                key = (tagged, count, -rank)
                if lemma not in best or key > best[lemma][0]:
                    best[lemma] = (key, definition)
    # Lemmas never seen in the tagged corpus are mostly taxonomy ("any of the genus ..."), which a
    # model of this size learns in place of everything else.
    return sorted((w, sentence(d)) for w, (key, d) in best.items() if d and (key[0] > 0 or not common))


def wordnet_text():
    """Every definition and example of WordNet, for the tokenizer and the vocabulary."""
    parts = []
    for pos in POS:
        for definition, examples in _synsets(pos).values():
            parts.append(definition)
            parts.extend(examples)
    return parts


class _RData:
    """The subset of R's XDR serialisation the janeaustenr data uses."""

    def __init__(self, raw):
        assert raw[:2] == b"X\n", "not an XDR R serialisation"
        self.b, self.p, self.symbols = raw, 2, []
        version = self.int()
        self.int()
        self.int()
        if version == 3:
            n = self.int()
            self.p += n  # native encoding name

    def int(self):
        v = struct.unpack(">i", self.b[self.p:self.p + 4])[0]
        self.p += 4
        return v

    def obj(self):
        flags = self.int()
        kind, attr, tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind in (254, 242, 253):  # NULL, empty / global environment
            return None
        if kind == 255:  # reference to an earlier symbol
            return self.symbols[(flags >> 8) - 1]
        if kind == 1:  # symbol
            self.symbols.append(self.obj())
            return self.symbols[-1]
        if kind == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            v = self.b[self.p:self.p + n].decode("utf-8", "replace")
            self.p += n
            return v
        if kind == 2:  # pairlist
            if attr:
                self.obj()
            name = self.obj() if tag else None
            return [(name, self.obj())] + (self.obj() or [])
        if kind in (16, 19, 20):  # character vector, list
            v = [self.obj() for _ in range(self.int())]
        elif kind in (13, 10):  # integer, logical
            n = self.int()
            v = list(struct.unpack(">%di" % n, self.b[self.p:self.p + 4 * n]))
            self.p += 4 * n
        elif kind == 14:  # double
            n = self.int()
            v = list(struct.unpack(">%dd" % n, self.b[self.p:self.p + 8 * n]))
            self.p += 8 * n
        else:
            raise ValueError("R type %d is not decoded here" % kind)
        if attr:
            self.obj()
        return v


def austen_novels():
    """{title: [lines]} of the six novels."""
    index = _RData(gzip.decompress(open(AUSTEN + ".rdx", "rb").read())).obj()
    db = open(AUSTEN + ".rdb", "rb").read()
    novels = {}
    for offset, length in index[0]:
        lines = _RData(zlib.decompress(db[offset + 4:offset + length])).obj()
        if isinstance(lines, list) and lines and isinstance(lines[0], str):
            title = next(l for l in lines if l.strip()).strip()
            novels[re.sub(r"\bAnd\b", "and", title.title())] = [ascii_text(l or "") for l in lines]
    return novels


def austen_passages(max_chars=500):
    """(title, passage): paragraphs of the novels, long ones cut at sentence ends."""
    out = []
    for title, lines in austen_novels().items():
        paragraph = []
        for line in lines + [""]:
            if line.strip():
                paragraph.append(line.strip())
                continue
            text = " ".join(paragraph)
            paragraph = []
            if len(text) < 60 or text.isupper() or text.startswith("CHAPTER"):
                continue
            chunk = ""
            for s in re.split(r"(?<=[.!?\"]) (?=[A-Z\"])", text):
                if chunk and len(chunk) + len(s) > max_chars:
                    out.append((title, chunk))
                    chunk = ""
                chunk = (chunk + " " + s).strip()
            if len(chunk) >= 60:
                out.append((title, chunk))
    return out


def chats(seed=0, passages=5000, common=False):
    """The training chats, shuffled: [(user, assistant)]: every WordNet word (with `common`, those
    of the tagged corpus) but the held-out ones, and `passages` passages of the novels drawn at
    random."""
    held = set(HELD_OUT)
    rng = random.Random(seed)
    items = [(question(w), a) for w, a in wordnet_chats(common) if w not in held]
    novels = austen_passages()
    items += [("Tell me a passage from %s." % t, p) for t, p in rng.sample(novels, min(passages, len(novels)))]
    rng.shuffle(items)
    return items


EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")


def words(text):
    """The words of a text as the evaluation counts them: split at whitespace, lower-cased, with
    what is not a letter stripped from both ends; pieces with no letter are not words."""
    return [w for w in (EDGES.sub("", p.lower()) for p in text.split()) if w]
