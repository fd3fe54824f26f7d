package io.moeflink.engine.kernel;

/** Splits a matmul's output rows into chunks for the worker threads. */
final class RowSplit {
  /** Below this many multiply-adds a call runs on the calling thread. */
  private static final long MIN_PARALLEL_WORK = 1L << 15;

  private RowSplit() {}

  /** Number of chunks for {@code rows} outputs of {@code work} multiply-adds each call. */
  static int chunks(int rows, long work, int threads) {
    if (threads == 1 || work < MIN_PARALLEL_WORK) {
      return 1;
    }
    // Several chunks per thread so that uneven cores still finish together.
    return Math.max(1, Math.min(rows / 8, threads * 4));
  }

  /** Number of chunks for {@code blocks} row blocks of {@code work} multiply-adds in all. */
  static int blockChunks(int blocks, long work, int threads) {
    if (threads == 1 || work < MIN_PARALLEL_WORK) {
      return 1;
    }
    return Math.max(1, Math.min(blocks, threads * 4));
  }

  static int start(int chunk, int chunks, int rows) {
    return (int) ((long) rows * chunk / chunks);
  }

  /** First block of {@code chunk} when {@code blocks} are split in whole units of {@code unit} blocks. */
  static int blockStart(int chunk, int chunks, int blocks, int unit) {
    return Math.min(blocks, unit * start(chunk, chunks, (blocks + unit - 1) / unit));
  }
}
