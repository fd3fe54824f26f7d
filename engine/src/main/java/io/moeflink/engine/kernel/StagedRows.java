package io.moeflink.engine.kernel;

/**
 * Weight rows copied, a few KiB at a time, from the mapped checkpoint into a per-thread array that
 * the tiles read from L1. One bulk copy keeps many cache-line reads in flight and streams the file
 * at close to the machine's read bandwidth; vector loads straight from a mapped {@code ByteBuffer}
 * carry a dozen instructions of bounds and session checks each, which left too few reads in flight
 * (measured: decode at batch 16 on small bf16 went from 0.48 to 0.55 of the read bandwidth, batch 1
 * from 0.62 to 0.68). The copied bytes are the stored ones, so results do not change.
 */
final class StagedRows {
  /**
   * Weight bytes staged at a time for five or more tokens, where the arithmetic dominates: with one
   * group of four tokens' activations they fit in L1 (measured on small bf16 at batch 16: 8 and 16
   * KiB alike, 32 KiB and more slower).
   */
  private static final int BLOCK_BYTES = 16 << 10;
  /**
   * Weight bytes staged at a time for one to four tokens, where reading the weights is most of the
   * cost: measured, 4-8 KiB blocks read fastest, 2 KiB and 16 KiB or more 5-20% slower.
   */
  private static final int STREAM_BLOCK_BYTES = 8 << 10;
  private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[BLOCK_BYTES]);

  private StagedRows() {}

  /** Rows per staged block for {@code tokens} tokens: a multiple of four, at least four. */
  static int blockRows(int tokens, int rowBytes) {
    int bytes = tokens <= Lanes.GROUP ? STREAM_BLOCK_BYTES : BLOCK_BYTES;
    return Math.max(Lanes.GROUP, bytes / rowBytes / Lanes.GROUP * Lanes.GROUP);
  }

  /** This thread's staging array, grown to at least {@code bytes}. */
  static byte[] buffer(int bytes) {
    byte[] b = BUFFER.get();
    if (b.length < bytes) {
      b = new byte[bytes];
      BUFFER.set(b);
    }
    return b;
  }

  /** Copies the stored bytes of rows {@code [r, r + n)} of {@code w} to {@code block[0 ..)}. */
  static void copy(WeightMatrix w, int r, int n, byte[] block) {
    int rowBytes = w.cols() * w.dtype().bytes();
    w.data().get(Math.toIntExact((long) (w.rowOffset() + r) * rowBytes), block, 0, n * rowBytes);
  }
}
