package io.moeflink.engine.tokenizer;

import java.util.Arrays;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model: one pre-tokenized word to token ids. Each character of the word starts as its own
 * symbol; then, as Hugging Face's {@code BPE} and tiktoken do it, the adjacent pair with the lowest
 * merge rank merges, the leftmost of equal ranks first, until no pair merges.
 *
 * <p>Characters outside the vocabulary become {@code <0xXX>} byte tokens with {@code
 * byte_fallback}, else the unknown token if one is named (consecutive ones fused with {@code
 * fuse_unk}), else they are dropped, all as Hugging Face does. With {@code ignore_merges} a word
 * that is itself a token is that token, without merging (tiktoken always does this).
 *
 * <p>Encoded words are cached (a cache per instance, safe across threads, cleared when full so that
 * memory stays bounded in a long-running job).
 */
final class BytePairEncoding {

  /** Words up to this length (chars) merge by scanning for the lowest rank; longer ones use a heap. */
  private static final int SCAN_LIMIT = 48;
  /** Longer words are not cached (Hugging Face: 256 bytes). */
  private static final int CACHE_MAX_WORD = 256;
  private static final int CACHE_CAPACITY = 65_536;

  /** Token text (byte-level alphabet for byte-level models) to id. */
  private final Map<String, Integer> vocab;
  private final MergeRules merges;
  /** Id of each single BMP character that is a token, or -1. */
  private final int[] charIds;
  private final boolean ignoreMerges;
  private final boolean byteFallback;
  /** The {@code <0xXX>} token of each byte value when byteFallback, else null. */
  private final int[] byteTokenIds;
  private final OptionalInt unknownId;
  private final boolean fuseUnknown;
  private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

  BytePairEncoding(
      Map<String, Integer> vocab,
      MergeRules merges,
      boolean ignoreMerges,
      boolean byteFallback,
      OptionalInt unknownId,
      boolean fuseUnknown) {
    this.vocab = vocab;
    this.merges = merges;
    this.ignoreMerges = ignoreMerges;
    this.byteFallback = byteFallback;
    this.unknownId = unknownId;
    this.fuseUnknown = fuseUnknown;
    this.charIds = new int[Character.MAX_VALUE + 1];
    Arrays.fill(charIds, -1);
    vocab.forEach(
        (token, id) -> {
          if (token.length() == 1) {
            charIds[token.charAt(0)] = id;
          }
        });
    this.byteTokenIds = byteFallback ? byteTokens(vocab) : null;
  }

  /** Appends the ids of {@code word} (never empty) to {@code out}. */
  void encode(String word, IntList out) {
    if (ignoreMerges) {
      Integer whole = vocab.get(word);
      if (whole != null) {
        out.add(whole);
        return;
      }
    }
    int[] cached = cache.get(word);
    if (cached == null) {
      cached = merge(symbols(word));
      if (word.length() < CACHE_MAX_WORD) {
        if (cache.size() >= CACHE_CAPACITY) {
          cache.clear();
        }
        cache.put(word, cached);
      }
    }
    out.addAll(cached);
  }

  /** The initial symbols: one per character, or its byte tokens, or the unknown token. */
  private IntList symbols(String word) {
    IntList symbols = new IntList(word.length());
    int pendingUnknown = -1; // Hugging Face adds a (fused) unknown when the next known char arrives
    for (int i = 0; i < word.length(); ) {
      int cp = word.codePointAt(i);
      int count = Character.charCount(cp);
      int id = count == 1 ? charIds[cp] : idOf(word.substring(i, i + count));
      i += count;
      if (id >= 0) {
        if (pendingUnknown >= 0) {
          symbols.add(pendingUnknown);
          pendingUnknown = -1;
        }
        symbols.add(id);
        continue;
      }
      if (byteFallback && addByteTokens(cp, symbols)) {
        continue;
      }
      if (unknownId.isPresent()) {
        if (pendingUnknown >= 0 && !fuseUnknown) {
          symbols.add(pendingUnknown);
        }
        pendingUnknown = unknownId.getAsInt();
      }
    }
    if (pendingUnknown >= 0) {
      symbols.add(pendingUnknown);
    }
    return symbols;
  }

  private int idOf(String token) {
    Integer id = vocab.get(token);
    return id == null ? -1 : id;
  }

  private boolean addByteTokens(int cp, IntList symbols) {
    byte[] bytes = new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (byte b : bytes) {
      if (byteTokenIds[b & 0xFF] < 0) {
        return false;
      }
    }
    for (byte b : bytes) {
      symbols.add(byteTokenIds[b & 0xFF]);
    }
    return true;
  }

  private int[] merge(IntList initial) {
    int[] symbols = initial.toArray();
    return symbols.length <= SCAN_LIMIT ? mergeByScan(symbols) : mergeByHeap(symbols);
  }

  /** Short words: keep the rank of each adjacent pair and merge the lowest, leftmost first. */
  private int[] mergeByScan(int[] symbols) {
    int n = symbols.length;
    long[] pair = new long[Math.max(0, n - 1)]; // merge of (symbols[i], symbols[i + 1])
    for (int i = 0; i + 1 < n; i++) {
      pair[i] = merges.merge(symbols[i], symbols[i + 1]);
    }
    while (n > 1) {
      int best = -1;
      int bestRank = Integer.MAX_VALUE;
      for (int i = 0; i + 1 < n; i++) {
        if (pair[i] != MergeRules.NO_MERGE && MergeRules.rank(pair[i]) < bestRank) {
          bestRank = MergeRules.rank(pair[i]);
          best = i;
        }
      }
      if (best < 0) {
        break;
      }
      symbols[best] = MergeRules.mergedId(pair[best]);
      System.arraycopy(symbols, best + 2, symbols, best + 1, n - best - 2);
      System.arraycopy(pair, best + 1, pair, best, n - best - 2);
      n--;
      if (best > 0) {
        pair[best - 1] = merges.merge(symbols[best - 1], symbols[best]);
      }
      if (best + 1 < n) {
        pair[best] = merges.merge(symbols[best], symbols[best + 1]);
      }
    }
    return Arrays.copyOf(symbols, n);
  }

  /**
   * Long words (a run of symbols, a long number): a linked list of symbols and a heap of candidate
   * merges ordered by (rank, position), as Hugging Face's {@code Word::merge_all} does; stale
   * entries are skipped when popped.
   */
  private int[] mergeByHeap(int[] symbols) {
    int n = symbols.length;
    int[] next = new int[n];
    int[] prev = new int[n];
    boolean[] removed = new boolean[n];
    for (int i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    LongHeap heap = new LongHeap(n);
    for (int i = 0; i + 1 < n; i++) {
      push(heap, i, merges.merge(symbols[i], symbols[i + 1]));
    }
    while (!heap.isEmpty()) {
      long top = heap.pop();
      int pos = (int) top;
      int rank = (int) (top >>> 32);
      if (removed[pos] || next[pos] < 0) {
        continue;
      }
      int right = next[pos];
      long merge = merges.merge(symbols[pos], symbols[right]);
      if (merge == MergeRules.NO_MERGE || MergeRules.rank(merge) != rank) {
        continue; // the pair changed since this entry was pushed
      }
      symbols[pos] = MergeRules.mergedId(merge);
      removed[right] = true;
      next[pos] = next[right];
      if (next[pos] >= 0) {
        prev[next[pos]] = pos;
        push(heap, pos, merges.merge(symbols[pos], symbols[next[pos]]));
      }
      if (prev[pos] >= 0) {
        push(heap, prev[pos], merges.merge(symbols[prev[pos]], symbols[pos]));
      }
    }
    IntList out = new IntList(n);
    for (int i = 0; i >= 0; i = next[i]) {
      out.add(symbols[i]);
    }
    return out.toArray();
  }

  private static void push(LongHeap heap, int pos, long merge) {
    if (merge != MergeRules.NO_MERGE) {
      heap.push(((long) MergeRules.rank(merge) << 32) | pos);
    }
  }

  private static int[] byteTokens(Map<String, Integer> vocab) {
    int[] ids = new int[256];
    for (int b = 0; b < 256; b++) {
      Integer id = vocab.get(String.format(java.util.Locale.ROOT, "<0x%02X>", b));
      ids[b] = id == null ? -1 : id;
    }
    return ids;
  }

  /** A binary min-heap of longs. */
  private static final class LongHeap {
    private long[] items;
    private int size;

    LongHeap(int capacity) {
      items = new long[Math.max(4, capacity)];
    }

    boolean isEmpty() {
      return size == 0;
    }

    void push(long item) {
      if (size == items.length) {
        items = Arrays.copyOf(items, size * 2);
      }
      int i = size++;
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (items[parent] <= item) {
          break;
        }
        items[i] = items[parent];
        i = parent;
      }
      items[i] = item;
    }

    long pop() {
      long top = items[0];
      long last = items[--size];
      int i = 0;
      while (true) {
        int child = 2 * i + 1;
        if (child >= size) {
          break;
        }
        if (child + 1 < size && items[child + 1] < items[child]) {
          child++;
        }
        if (last <= items[child]) {
          break;
        }
        items[i] = items[child];
        i = child;
      }
      if (size > 0) {
        items[i] = last;
      }
      return top;
    }
  }
}
