package io.moeflink.engine.kernel;

import io.moeflink.engine.checkpoint.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix re-laid out for the CPU kernels: blocks of {@link #ROWS} output rows, each
 * stored K-major ({@code (cols, 32)}: for every input column the 32 rows' weights side by side),
 * in the matrix's stored dtype. A block's weights for a range of columns are one contiguous run,
 * which a kernel copies into its own array and widens to F32 once for all the tokens it multiplies
 * ({@link #stage}). Rows past the last are zero. FP8 keeps its codes; each row's scale per
 * 128-column block is kept beside them, multiplied by {@code 2^120} for the bit-level decode.
 *
 * <p>The value of element {@code (r, c)} is exactly {@link WeightMatrix#get}: BF16 and F32 as
 * stored, FP8 the code's value times its block scale, rounded once.
 */
final class RowBlocks {
  /** Output rows per block: a kernel tile's width. */
  static final int ROWS = 32;
  /** Largest buffer, in bytes; a larger matrix spreads its blocks over several. */
  private static final int MAX_CHUNK_BYTES = 1 << 30;

  private final DType dtype;
  private final int rows;
  private final int cols;
  private final int blocks;
  private final int blocksPerChunk;
  private final ByteBuffer[] chunks; // blocks, each (cols, ROWS) elements of dtype
  private final float[] scales; // FP8 only: (blocks, colBlocks, ROWS) scale * 2^120, else null
  private final int colBlocks;

  private RowBlocks(DType dtype, int rows, int cols, ByteBuffer[] chunks, int blocksPerChunk, float[] scales) {
    this.dtype = dtype;
    this.rows = rows;
    this.cols = cols;
    this.blocks = (rows + ROWS - 1) / ROWS;
    this.chunks = chunks;
    this.blocksPerChunk = blocksPerChunk;
    this.scales = scales;
    this.colBlocks = (cols + WeightMatrix.FP8_BLOCK - 1) / WeightMatrix.FP8_BLOCK;
  }

  /** Re-lays out {@code w}'s rows, reading each of its stored bytes once. */
  static RowBlocks of(WeightMatrix w) {
    DType dtype = w.dtype();
    int rows = w.rows();
    int cols = w.cols();
    int size = dtype.bytes();
    int blocks = (rows + ROWS - 1) / ROWS;
    long blockBytes = (long) cols * ROWS * size;
    int perChunk = (int) Math.max(1, Math.min(blocks, MAX_CHUNK_BYTES / Math.max(blockBytes, 1)));
    if (blockBytes > MAX_CHUNK_BYTES) {
      throw new IllegalArgumentException(
          w.name() + " has " + cols + " columns: a block of 32 rows would exceed " + MAX_CHUNK_BYTES + " bytes");
    }
    ByteBuffer[] chunks = new ByteBuffer[(blocks + perChunk - 1) / perChunk];
    for (int i = 0; i < chunks.length; i++) {
      int n = Math.min(perChunk, blocks - i * perChunk);
      chunks[i] = ByteBuffer.allocateDirect(Math.toIntExact(n * blockBytes)).order(ByteOrder.LITTLE_ENDIAN);
    }
    int colBlocks = (cols + WeightMatrix.FP8_BLOCK - 1) / WeightMatrix.FP8_BLOCK;
    float[] scales = dtype == DType.F8_E4M3 ? new float[blocks * colBlocks * ROWS] : null;
    for (int block = 0; block < blocks; block++) {
      int r0 = block * ROWS;
      int n = Math.min(ROWS, rows - r0);
      ByteBuffer dst = chunks[block / perChunk].duplicate().order(ByteOrder.LITTLE_ENDIAN);
      dst.position(Math.toIntExact((block % perChunk) * blockBytes));
      transpose(w, r0, n, dst);
      if (scales != null) {
        for (int lane = 0; lane < n; lane++) {
          for (int cb = 0; cb < colBlocks; cb++) {
            scales[(block * colBlocks + cb) * ROWS + lane] = w.rebiasedScale(w.rowOffset() + r0 + lane, cb);
          }
        }
      }
    }
    return new RowBlocks(dtype, rows, cols, chunks, perChunk, scales);
  }

  /** Writes stored rows {@code [r0, r0 + n)} of {@code w} at {@code dst}'s position as one {@code (cols, ROWS)} block. */
  private static void transpose(WeightMatrix w, int r0, int n, ByteBuffer dst) {
    int cols = w.cols();
    ByteBuffer src = ByteBuffer.allocate(Math.multiplyExact(n * cols, w.dtype().bytes())).order(ByteOrder.LITTLE_ENDIAN);
    w.readRows(r0, n, src);
    switch (w.dtype()) {
      case BF16 -> {
        short[] in = new short[n * cols];
        short[] out = new short[cols * ROWS];
        src.asShortBuffer().get(0, in);
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            out[c * ROWS + lane] = in[lane * cols + c];
          }
        }
        dst.asShortBuffer().put(out);
      }
      case F8_E4M3 -> {
        byte[] in = new byte[n * cols];
        byte[] out = new byte[cols * ROWS];
        src.get(0, in);
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            out[c * ROWS + lane] = in[lane * cols + c];
          }
        }
        dst.put(out);
      }
      case F32 -> {
        float[] in = new float[n * cols];
        float[] out = new float[cols * ROWS];
        src.asFloatBuffer().get(0, in);
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            out[c * ROWS + lane] = in[lane * cols + c];
          }
        }
        dst.asFloatBuffer().put(out);
      }
    }
  }

  DType dtype() {
    return dtype;
  }

  int rows() {
    return rows;
  }

  int cols() {
    return cols;
  }

  /** Blocks of {@link #ROWS} rows, the last one padded with zero rows. */
  int blocks() {
    return blocks;
  }

  /** Rebiased FP8 scales of block {@code block}, 128-column block {@code colBlock}: {@code ROWS} values. */
  int scaleOffset(int block, int colBlock) {
    return (block * colBlocks + colBlock) * ROWS;
  }

  float[] scales() {
    return scales;
  }

  /**
   * Copies the stored weights of block {@code block}, columns {@code [c0, c0 + n)}, to {@code
   * dst[0 .. n * ROWS * dtype.bytes())} in the block's own layout ({@code (n, ROWS)}).
   */
  void stage(int block, int c0, int n, byte[] dst) {
    int size = dtype.bytes();
    ByteBuffer chunk = chunks[block / blocksPerChunk];
    long at = (long) (block % blocksPerChunk) * cols * ROWS * size + (long) c0 * ROWS * size;
    chunk.get(Math.toIntExact(at), dst, 0, n * ROWS * size);
  }

  /** The staging view of a block's weights as shorts (BF16) or floats (F32), for the array loads. */
  void stage(int block, int c0, int n, short[] dst) {
    ByteBuffer chunk = chunks[block / blocksPerChunk];
    long at = (long) (block % blocksPerChunk) * cols * ROWS * 2 + (long) c0 * ROWS * 2;
    chunk.asShortBuffer().get(Math.toIntExact(at / 2), dst, 0, n * ROWS);
  }

  void stage(int block, int c0, int n, float[] dst) {
    ByteBuffer chunk = chunks[block / blocksPerChunk];
    long at = (long) (block % blocksPerChunk) * cols * ROWS * 4 + (long) c0 * ROWS * 4;
    chunk.asFloatBuffer().get(Math.toIntExact(at / 4), dst, 0, n * ROWS);
  }

  /** Exact value of element {@code (r, c)}, as the kernels widen it. */
  float get(int r, int c) {
    int block = r / ROWS;
    int lane = r % ROWS;
    ByteBuffer chunk = chunks[block / blocksPerChunk];
    long element = (long) (block % blocksPerChunk) * cols * ROWS + (long) c * ROWS + lane;
    return switch (dtype) {
      case F32 -> chunk.getFloat(Math.toIntExact(element * 4));
      case BF16 -> Float.intBitsToFloat(chunk.getShort(Math.toIntExact(element * 2)) << 16);
      case F8_E4M3 -> Fp8Bits.value(chunk.get(Math.toIntExact(element)))
          * scales[scaleOffset(block, c / WeightMatrix.FP8_BLOCK) + lane];
    };
  }

  /** Bytes held off the heap. */
  long bytes() {
    long b = 0;
    for (ByteBuffer c : chunks) {
      b += c.capacity();
    }
    return b;
  }
}
