package io.moeflink.engine.model;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Latent-KV rows of prompt prefixes that earlier sequences prefilled, kept in blocks of {@link
 * #blockTokens()} positions so that a new sequence whose prompt starts with them prefills only the
 * rest.
 *
 * <p>A block is keyed by a hash of the whole token prefix up to its end; a lookup compares the
 * block's own tokens and its parent block (by identity), so that a hash collision can never hand
 * a sequence another prompt's rows: equal parents and equal tokens mean, by induction, equal
 * prefixes. Because a row at position {@code p} depends only on tokens {@code 0..p} and chunked
 * prefill computes every row bit for bit as a whole-prompt prefill does, a sequence that starts
 * from cached blocks gets the same logits, bit for bit, as one that prefills everything.
 *
 * <p>Blocks are copies, never shared with a live sequence: {@link #attach} copies the rows into
 * the sequence's own cache, {@link #offer} copies them out. Least recently used blocks go first
 * when the budget is reached; a parent is touched after its children, so leaves go before the
 * prefixes they extend. {@link #clear()} frees everything (memory pressure). Never checkpointed.
 *
 * <p>Not thread-safe: one generation loop owns it.
 */
public final class PrefixCache {
  /** Positions per block: small enough to share most of a prefix, large enough to keep lookups cheap. */
  public static final int DEFAULT_BLOCK_TOKENS = 32;

  private final KernelBackend kernels;
  private final int blockTokens;
  private final int layers;
  private final int rank;
  private final int ropeDim;
  private final long budgetBytes;
  private final long blockBytes;
  /** Blocks by prefix hash; a list only where hashes collide. */
  private final Map<Long, List<Block>> byHash = new HashMap<>();
  /** Every block, least recently used first. */
  private final LinkedHashMap<Block, Boolean> lru = new LinkedHashMap<>(16, 0.75f, true);
  private long lookups;
  private long hits;
  private long promptTokensLookedUp;
  private long tokensReused;
  private long evictions;

  /** One block of positions {@code [depth * B, (depth + 1) * B)} of some prompt. */
  private static final class Block {
    final Block parent; // null for the first block
    final int[] tokens; // (B)
    final long hash;
    final Activations latent; // (layers, B, kvLoraRank)
    final Activations ropeKeys; // (layers, B, qkRopeHeadDim)

    Block(Block parent, int[] tokens, long hash, Activations latent, Activations ropeKeys) {
      this.parent = parent;
      this.tokens = tokens;
      this.hash = hash;
      this.latent = latent;
      this.ropeKeys = ropeKeys;
    }
  }

  /** What the cache has done so far (for metrics). */
  public record Stats(long lookups, long hits, long promptTokensLookedUp, long tokensReused, long blocks,
      long bytes, long evictions) {
    /** Share of looked-up prompt tokens served from the cache. */
    public double tokenHitRate() {
      return promptTokensLookedUp == 0 ? 0 : tokensReused / (double) promptTokensLookedUp;
    }
  }

  /**
   * A cache for {@code model}'s sequences within {@code budgetBytes}; blocks hold the main layers'
   * rows (never the MTP module's: speculative decoding does not use the cache).
   */
  public static PrefixCache of(Model model, long budgetBytes, int blockTokens) {
    ModelConfig c = model.config();
    return new PrefixCache(model.kernels(), c, c.numHiddenLayers(), blockTokens, budgetBytes);
  }

  PrefixCache(KernelBackend kernels, ModelConfig config, int layers, int blockTokens, long budgetBytes) {
    if (blockTokens < 1) {
      throw new IllegalArgumentException("Prefix cache blocks of " + blockTokens + " tokens; expected at least 1");
    }
    if (budgetBytes < 0) {
      throw new IllegalArgumentException("Prefix cache budget of " + budgetBytes + " bytes; expected 0 (off) or more");
    }
    this.kernels = kernels;
    this.blockTokens = blockTokens;
    this.layers = layers;
    this.rank = config.kvLoraRank();
    this.ropeDim = config.qkRopeHeadDim();
    this.budgetBytes = budgetBytes;
    this.blockBytes = Math.multiplyExact(Math.multiplyExact((long) layers * blockTokens, rank + ropeDim), Float.BYTES);
  }

  public int blockTokens() {
    return blockTokens;
  }

  /** Bytes one block takes: layers x block tokens x (kvLoraRank + qkRopeHeadDim) floats. */
  public long blockBytes() {
    return blockBytes;
  }

  /**
   * Copies the longest run of cached blocks that starts {@code prompt} into the empty {@code cache}
   * and commits them; at least the prompt's last token is left to prefill, so the sequence still
   * gets its logits.
   *
   * @return the positions filled (a multiple of {@link #blockTokens()}, 0 on a miss)
   */
  public int attach(int[] prompt, LatentKvCache cache) {
    if (cache.length() != 0) {
      throw new IllegalArgumentException("A prefix attaches only to an empty cache (it holds " + cache.length() + ")");
    }
    lookups++;
    promptTokensLookedUp += prompt.length;
    List<Block> chain = match(prompt, prompt.length - 1);
    if (chain.isEmpty()) {
      return 0;
    }
    int filled = chain.size() * blockTokens;
    cache.ensureCapacity(filled);
    for (int b = 0; b < chain.size(); b++) {
      copyIn(chain.get(b), cache, b * blockTokens);
    }
    cache.commit(filled);
    touch(chain);
    hits++;
    tokensReused += filled;
    return filled;
  }

  /**
   * Keeps the full blocks of {@code prompt}'s first {@code positions} positions that {@code cache}
   * holds and the cache lacks, within the budget.
   */
  public void offer(int[] prompt, int positions, LatentKvCache cache) {
    int upTo = Math.min(Math.min(positions, prompt.length), cache.length());
    if (blockBytes > budgetBytes) {
      return;
    }
    List<Block> chain = new ArrayList<>();
    Block parent = null;
    for (int b = 0; (b + 1) * blockTokens <= upTo; b++) {
      int from = b * blockTokens;
      long hash = extend(parent == null ? 0 : parent.hash, prompt, from);
      Block block = find(hash, parent, prompt, from);
      if (block == null) {
        makeRoom(chain);
        block = copyOut(parent, Arrays.copyOfRange(prompt, from, from + blockTokens), hash, cache, from);
        byHash.computeIfAbsent(hash, h -> new ArrayList<>(1)).add(block);
        lru.put(block, Boolean.TRUE);
      }
      chain.add(block);
      parent = block;
    }
    touch(chain);
  }

  /** The cached blocks that start {@code prompt}, covering at most {@code limit} positions. */
  private List<Block> match(int[] prompt, int limit) {
    List<Block> chain = new ArrayList<>();
    Block parent = null;
    for (int b = 0; (b + 1) * blockTokens <= limit; b++) {
      int from = b * blockTokens;
      Block block = find(extend(parent == null ? 0 : parent.hash, prompt, from), parent, prompt, from);
      if (block == null) {
        break;
      }
      chain.add(block);
      parent = block;
    }
    return chain;
  }

  private Block find(long hash, Block parent, int[] prompt, int from) {
    List<Block> candidates = byHash.get(hash);
    if (candidates == null) {
      return null;
    }
    for (Block c : candidates) {
      if (c.parent == parent && Arrays.equals(c.tokens, 0, blockTokens, prompt, from, from + blockTokens)) {
        return c;
      }
    }
    return null;
  }

  /** The hash of a prefix extended by one block: 64-bit FNV-1a over the token ids. */
  private long extend(long hash, int[] prompt, int from) {
    long h = hash == 0 ? 0xcbf29ce484222325L : hash;
    for (int i = from; i < from + blockTokens; i++) {
      h = (h ^ prompt[i]) * 0x100000001b3L;
    }
    return h;
  }

  /** Makes the chain's parents more recent than any of their children: deepest first, root last. */
  private void touch(List<Block> chain) {
    for (int i = chain.size() - 1; i >= 0; i--) {
      lru.get(chain.get(i));
    }
  }

  /** Evicts least recently used blocks until one more fits, sparing the chain being built. */
  private void makeRoom(List<Block> keep) {
    Iterator<Block> it = lru.keySet().iterator();
    while ((lru.size() + 1) * blockBytes > budgetBytes && it.hasNext()) {
      Block victim = it.next();
      if (keep.contains(victim)) {
        continue;
      }
      it.remove();
      forget(victim);
      evictions++;
    }
  }

  private void forget(Block block) {
    List<Block> bucket = byHash.get(block.hash);
    bucket.remove(block);
    if (bucket.isEmpty()) {
      byHash.remove(block.hash);
    }
    block.latent.close();
    block.ropeKeys.close();
  }

  private Block copyOut(Block parent, int[] tokens, long hash, LatentKvCache cache, int from) {
    Activations latent = kernels.allocate(layers * blockTokens * rank);
    Activations rope = kernels.allocate(layers * blockTokens * ropeDim);
    for (int l = 0; l < layers; l++) {
      kernels.copy(cache.latent(l), from * rank, latent, l * blockTokens * rank, blockTokens * rank);
      kernels.copy(cache.ropeKeys(l), from * ropeDim, rope, l * blockTokens * ropeDim, blockTokens * ropeDim);
    }
    return new Block(parent, tokens, hash, latent, rope);
  }

  private void copyIn(Block block, LatentKvCache cache, int at) {
    for (int l = 0; l < layers; l++) {
      kernels.copy(block.latent, l * blockTokens * rank, cache.latent(l), at * rank, blockTokens * rank);
      kernels.copy(block.ropeKeys, l * blockTokens * ropeDim, cache.ropeKeys(l), at * ropeDim, blockTokens * ropeDim);
    }
  }

  /** Frees every block (memory pressure, or the end of the loop). */
  public void clear() {
    lru.keySet().forEach(b -> {
      b.latent.close();
      b.ropeKeys.close();
    });
    evictions += lru.size();
    lru.clear();
    byHash.clear();
  }

  public Stats stats() {
    return new Stats(lookups, hits, promptTokensLookedUp, tokensReused, lru.size(), lru.size() * blockBytes, evictions);
  }
}
