package io.moeflink.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Which blocks the prefix cache keeps and hands out (the logits it preserves: workbench's PrefixCacheDeterminismTest). */
class PrefixCacheTest {
  private static final int B = 4;
  private static KernelBackend kernels;
  private static ModelConfig config;

  @BeforeAll
  static void load() throws Exception {
    kernels = Backends.cpu(BackendKind.SCALAR, 1);
    config = ModelConfig.load(GoldenFixture.load("bf16").dir());
  }

  @AfterAll
  static void close() {
    kernels.close();
  }

  private static PrefixCache cache(int blocks) {
    long blockBytes = (long) config.numHiddenLayers() * B * (config.kvLoraRank() + config.qkRopeHeadDim()) * Float.BYTES;
    return new PrefixCache(kernels, config, config.numHiddenLayers(), B, blocks * blockBytes);
  }

  /** A sequence cache that "has prefilled" {@code prompt}: its rows hold the position + 1, layer after layer. */
  private static LatentKvCache prefilled(int[] prompt) {
    LatentKvCache c = new LatentKvCache(config, kernels);
    c.ensureCapacity(prompt.length);
    int rank = config.kvLoraRank();
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      float[] rows = new float[prompt.length * rank];
      for (int p = 0; p < prompt.length; p++) {
        Arrays.fill(rows, p * rank, (p + 1) * rank, prompt[p] * 100 + l);
      }
      kernels.write(c.latent(l), 0, rows, 0, rows.length);
    }
    c.commit(prompt.length);
    return c;
  }

  private static int[] prompt(int... tokens) {
    return tokens;
  }

  @Test
  void aPromptStartingWithCachedBlocksGetsTheirRowsAndKeepsItsLastTokenToPrefill() {
    PrefixCache cache = cache(100);
    int[] first = prompt(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    cache.offer(first, first.length, prefilled(first));
    assertThat(cache.stats().blocks()).isEqualTo(2); // [1..4], [5..8]; [9, 10] is not a full block

    LatentKvCache second = new LatentKvCache(config, kernels);
    assertThat(cache.attach(prompt(1, 2, 3, 4, 5, 6, 7, 8, 42, 43, 44), second)).isEqualTo(8);
    assertThat(second.length()).isEqualTo(8);
    float[] rows = kernels.toHost(second.latent(1), 8 * config.kvLoraRank());
    assertThat(rows[7 * config.kvLoraRank()]).isEqualTo(8 * 100 + 1); // position 7 holds token 8's row of layer 1

    // the whole prompt is cached, but its last token must still be fed to get logits
    assertThat(cache.attach(prompt(1, 2, 3, 4, 5, 6, 7, 8), new LatentKvCache(config, kernels))).isEqualTo(4);
    assertThat(cache.attach(prompt(1, 2, 3, 9, 5, 6, 7, 8, 9), new LatentKvCache(config, kernels))).isZero();
    PrefixCache.Stats s = cache.stats();
    assertThat(s.lookups()).isEqualTo(3);
    assertThat(s.hits()).isEqualTo(2);
    assertThat(s.tokensReused()).isEqualTo(12);
    assertThat(s.promptTokensLookedUp()).isEqualTo(11 + 8 + 9);
  }

  @Test
  void aBlockMatchesOnlyAfterItsOwnParentSoEqualTokensUnderAnotherPrefixMiss() {
    PrefixCache cache = cache(100);
    int[] a = prompt(1, 1, 1, 1, 7, 7, 7, 7, 0);
    cache.offer(a, a.length, prefilled(a));
    // block 2 of b has block 2 of a's tokens, under another first block
    assertThat(cache.attach(prompt(2, 2, 2, 2, 7, 7, 7, 7, 0), new LatentKvCache(config, kernels))).isZero();
    assertThat(cache.attach(prompt(1, 1, 1, 1, 7, 7, 7, 7, 0), new LatentKvCache(config, kernels))).isEqualTo(8);
  }

  @Test
  void theBudgetEvictsLeastRecentlyUsedLeavesBeforeTheirPrefixes() {
    PrefixCache cache = cache(3);
    int[] shared = prompt(1, 2, 3, 4, 5, 6, 7, 8, 0);
    cache.offer(shared, shared.length, prefilled(shared)); // [1-4] <- [5-8]
    int[] other = prompt(1, 2, 3, 4, 9, 9, 9, 9, 0);
    cache.offer(other, other.length, prefilled(other)); // [1-4] <- [9...]: 3 blocks, full
    int[] third = prompt(1, 2, 3, 4, 8, 8, 8, 8, 0);
    cache.offer(third, third.length, prefilled(third)); // evicts [5-8], the least recent leaf, not [1-4]
    assertThat(cache.stats().blocks()).isEqualTo(3);
    assertThat(cache.stats().evictions()).isEqualTo(1);
    assertThat(cache.stats().bytes()).isLessThanOrEqualTo(3 * cache.blockBytes());
    assertThat(cache.attach(shared, new LatentKvCache(config, kernels))).isEqualTo(4);
    assertThat(cache.attach(other, new LatentKvCache(config, kernels))).isEqualTo(8);
    assertThat(cache.attach(third, new LatentKvCache(config, kernels))).isEqualTo(8);

    cache.clear();
    assertThat(cache.stats().blocks()).isZero();
    assertThat(cache.attach(third, new LatentKvCache(config, kernels))).isZero();
  }

  @Test
  void aBudgetSmallerThanOneBlockKeepsNothingAndABadSizeIsRefused() {
    PrefixCache off = cache(0);
    int[] p = prompt(1, 2, 3, 4, 5);
    off.offer(p, p.length, prefilled(p));
    assertThat(off.stats().blocks()).isZero();
    assertThatThrownBy(() -> new PrefixCache(kernels, config, 1, 0, 1000)).hasMessageContaining("at least 1");
    assertThatThrownBy(() -> off.attach(p, prefilled(p))).hasMessageContaining("empty cache");
  }
}
