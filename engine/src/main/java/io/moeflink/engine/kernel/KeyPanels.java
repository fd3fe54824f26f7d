package io.moeflink.engine.kernel;

/**
 * The cached keys of each sequence with {@link #ROWS} or more rows in a pass (a prefill's), packed
 * once for the pass into {@link KeyPanel8} blocks, which every job of its rows then reads: {@code
 * at[i]} is where row {@code i}'s sequence's first block starts in {@code floats}, or -1 where
 * its rows take {@link Dot16}'s tiles. The floats are the calling thread's, reused by its next
 * pass.
 */
record KeyPanels(float[] floats, int[] at) {
  /**
   * Rows of one sequence from which its keys are packed: each position's 288 keys are copied
   * once a pass, which a decode step's one row (16 heads) would pay for a second time over; a
   * prefill's hundreds of rows do not notice.
   */
  static final int ROWS = 4;
  private static final ThreadLocal<float[]> FLOATS = ThreadLocal.withInitial(() -> new float[0]);

  /**
   * Packs the keys of each run of {@link #ROWS} or more consecutive rows that share a cache, up
   * to the last position any of them attends to, on {@code pool}'s threads.
   */
  static KeyPanels pack(CacheRows cache, int rank, int ropeDim, WorkerPool pool) {
    int rows = cache.rows();
    int[] at = new int[rows];
    int blockFloats = KeyPanel8.blockFloats(rank, ropeDim);
    int[] runStart = new int[rows + 1]; // the runs that get panels: their first block's index
    int[] runRow = new int[rows]; // a row of each
    int[] runLength = new int[rows]; // and the positions its rows attend to
    int runs = 0;
    int blocks = 0;
    for (int i = 0, j; i < rows; i = j) {
      j = i + 1;
      int longest = cache.positions()[i] + 1;
      while (j < rows && cache.latents()[j] == cache.latents()[i]) {
        longest = Math.max(longest, cache.positions()[j] + 1);
        j++;
      }
      boolean packed = j - i >= ROWS;
      for (int r = i; r < j; r++) {
        at[r] = packed ? blocks * blockFloats : -1;
      }
      if (packed) {
        runStart[runs] = blocks;
        runRow[runs] = i;
        runLength[runs++] = longest;
        blocks += (longest + KeyPanel8.POSITIONS - 1) / KeyPanel8.POSITIONS;
      }
    }
    if (runs == 0) {
      return null;
    }
    runStart[runs] = blocks;
    float[] floats = floats(blocks * blockFloats);
    pool.parallelFor(blocks, b -> {
      int run = 0;
      while (runStart[run + 1] <= b) {
        run++;
      }
      int row = runRow[run];
      int t0 = (b - runStart[run]) * KeyPanel8.POSITIONS;
      KeyPanel8.pack(HostActivations.of(cache.latents()[row]), rank, HostActivations.of(cache.ropeKeys()[row]), ropeDim,
          t0, Math.min(runLength[run], t0 + KeyPanel8.POSITIONS), floats, b * blockFloats);
    });
    return new KeyPanels(floats, at);
  }

  private static float[] floats(int n) {
    float[] floats = FLOATS.get();
    if (floats.length < n) {
      floats = new float[Math.max(n, floats.length + floats.length / 2)];
      FLOATS.set(floats);
    }
    return floats;
  }
}
