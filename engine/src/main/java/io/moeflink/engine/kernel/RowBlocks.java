package io.moeflink.engine.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix re-laid out for the CPU kernels: blocks of {@link #ROWS} output rows, each
 * stored K-major ({@code (cols, 32)}: for every input column the 32 rows' weights side by side),
 * in the matrix's own encoding. A block's weights for a range of columns are one contiguous run,
 * which a kernel copies into its own array and widens to F32 once for all the tokens it multiplies
 * ({@link #stage}). Rows past the last are zero.
 *
 * <ul>
 *   <li>F32 and BF16: the stored values.
 *   <li>FP8: the codes; each row's scale per 128-column block beside them, times {@code 2^120} for
 *       the bit-level decode.
 *   <li>INT8: the integers {@code q} as signed bytes; INT4: a column's 32 rows in 16 bytes, byte
 *       {@code j} holding row {@code j} in its low and row {@code j + 16} in its high nibble, as
 *       {@code q + 8}. Beside them, per row and group, the scale and the offset the kernel
 *       subtracts ({@code zero}, or {@code 8 + zero} for INT4).
 * </ul>
 *
 * <p>The value of element {@code (r, c)} is exactly {@link WeightMatrix#get}.
 */
final class RowBlocks {
  /** Output rows per block: a kernel tile's width. */
  static final int ROWS = 32;
  /** Largest buffer, in bytes; a larger matrix spreads its blocks over several. */
  private static final int MAX_CHUNK_BYTES = 1 << 30;

  private final WeightEncoding encoding;
  private final int rows;
  private final int cols;
  private final int blocks;
  private final int blockBytes;
  private final int blocksPerChunk;
  private final ByteBuffer[] chunks; // blocks, each (cols, ROWS) weights in the encoding
  private final float[] scales; // FP8: (blocks, colBlocks, ROWS) scale * 2^120; INT: (blocks, groups, ROWS)
  private final float[] offsets; // INT only: (blocks, groups, ROWS) what the kernel subtracts before scaling
  private final int scaleGroups; // FP8: 128-column blocks; INT: groups
  private final int groupSize; // FP8: 128; INT: the groups' size

  private RowBlocks(
      WeightEncoding encoding, int rows, int cols, ByteBuffer[] chunks, int blocksPerChunk, float[] scales,
      float[] offsets, int scaleGroups, int groupSize) {
    this.encoding = encoding;
    this.rows = rows;
    this.cols = cols;
    this.blocks = (rows + ROWS - 1) / ROWS;
    this.blockBytes = cols * ROWS * encoding.bits() / 8;
    this.chunks = chunks;
    this.blocksPerChunk = blocksPerChunk;
    this.scales = scales;
    this.offsets = offsets;
    this.scaleGroups = scaleGroups;
    this.groupSize = groupSize;
  }

  /** Re-lays out {@code w}'s rows, reading each of its stored bytes once. */
  /**
   * A direct buffer for the re-laid-out weights; past the JVM's direct-memory limit, an error that
   * says which setting raises it.
   */
  private static ByteBuffer allocate(WeightMatrix w, int bytes, long total) {
    try {
      return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    } catch (OutOfMemoryError e) {
      OutOfMemoryError clear = new OutOfMemoryError("Out of direct memory re-laying out " + w.name() + " ("
          + (total >> 20) + " MiB): the CPU kernels keep the weights they use off the heap, about the size of"
          + " the dense weights (or of a shard's experts); raise -XX:MaxDirectMemorySize (bin/moe-flink:"
          + " MOE_FLINK_JAVA_OPTS), or on Flink taskmanager.memory.task.off-heap.size");
      clear.initCause(e);
      throw clear;
    }
  }

  static RowBlocks of(WeightMatrix w) {
    WeightEncoding encoding = w.encoding();
    int rows = w.rows();
    int cols = w.cols();
    int blocks = (rows + ROWS - 1) / ROWS;
    long blockBytes = (long) cols * ROWS * encoding.bits() / 8;
    if (blockBytes > MAX_CHUNK_BYTES) {
      throw new IllegalArgumentException(
          w.name() + " has " + cols + " columns: a block of 32 rows would exceed " + MAX_CHUNK_BYTES + " bytes");
    }
    int perChunk = (int) Math.max(1, Math.min(blocks, MAX_CHUNK_BYTES / Math.max(blockBytes, 1)));
    ByteBuffer[] chunks = new ByteBuffer[(blocks + perChunk - 1) / perChunk];
    for (int i = 0; i < chunks.length; i++) {
      int n = Math.min(perChunk, blocks - i * perChunk);
      chunks[i] = allocate(w, Math.toIntExact(n * blockBytes), (long) blocks * blockBytes);
    }
    int groupSize = switch (encoding) {
      case FP8 -> WeightMatrix.FP8_BLOCK;
      case INT8, INT4 -> w.ints().groupSize();
      default -> cols;
    };
    int groups = (cols + groupSize - 1) / groupSize;
    boolean scaled = encoding == WeightEncoding.FP8 || encoding == WeightEncoding.INT8 || encoding == WeightEncoding.INT4;
    float[] scales = scaled ? new float[blocks * groups * ROWS] : null;
    float[] offsets = encoding == WeightEncoding.INT8 || encoding == WeightEncoding.INT4 ? new float[scales.length] : null;
    for (int block = 0; block < blocks; block++) {
      int r0 = block * ROWS;
      int n = Math.min(ROWS, rows - r0);
      ByteBuffer dst = chunks[block / perChunk].duplicate().order(ByteOrder.LITTLE_ENDIAN);
      dst.position(Math.toIntExact((block % perChunk) * blockBytes));
      transpose(w, r0, n, dst);
      for (int lane = 0; lane < n && scaled; lane++) {
        int stored = w.rowOffset() + r0 + lane;
        for (int g = 0; g < groups; g++) {
          int at = (block * groups + g) * ROWS + lane;
          if (encoding == WeightEncoding.FP8) {
            scales[at] = w.rebiasedScale(stored, g);
          } else {
            scales[at] = w.ints().scale(stored, g * groupSize);
            offsets[at] = w.ints().zero(stored, g * groupSize) + (encoding == WeightEncoding.INT4 ? 8 : 0);
          }
        }
      }
    }
    return new RowBlocks(encoding, rows, cols, chunks, perChunk, scales, offsets, groups, groupSize);
  }

  /** Writes stored rows {@code [r0, r0 + n)} of {@code w} at {@code dst}'s position as one block. */
  private static void transpose(WeightMatrix w, int r0, int n, ByteBuffer dst) {
    int cols = w.cols();
    ByteBuffer src = ByteBuffer.allocate(Math.multiplyExact(n, w.rowBytes())).order(ByteOrder.LITTLE_ENDIAN);
    w.readRows(r0, n, src);
    switch (w.encoding()) {
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
      case FP8 -> {
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
      case INT8 -> {
        byte[] out = new byte[cols * ROWS];
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            out[c * ROWS + lane] = (byte) w.integer(w.rowOffset() + r0 + lane, c);
          }
        }
        dst.put(out);
      }
      case INT4 -> {
        byte[] out = new byte[cols * ROWS / 2]; // (cols, 16): row j low nibble, row j + 16 high
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            int u = w.integer(w.rowOffset() + r0 + lane, c) + 8;
            int at = c * (ROWS / 2) + lane % (ROWS / 2);
            out[at] = (byte) (lane < ROWS / 2 ? (out[at] & 0xF0) | u : (out[at] & 0x0F) | (u << 4));
          }
        }
        dst.put(out);
      }
    }
  }

  WeightEncoding encoding() {
    return encoding;
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

  /** Columns sharing a scale: 128 for FP8, the group size of INT8 and INT4. */
  int groupSize() {
    return groupSize;
  }

  /** Where the {@code ROWS} scales (and offsets) of block {@code block}, group {@code group} start. */
  int scaleOffset(int block, int group) {
    return (block * scaleGroups + group) * ROWS;
  }

  float[] scales() {
    return scales;
  }

  float[] offsets() {
    return offsets;
  }

  /**
   * Copies the stored weights of block {@code block}, columns {@code [c0, c0 + n)}, to {@code
   * dst[0 ..)} in the block's own layout (FP8, INT8, INT4).
   */
  void stage(int block, int c0, int n, byte[] dst) {
    int perColumn = ROWS * encoding.bits() / 8;
    chunk(block).get(Math.toIntExact(start(block) + (long) c0 * perColumn), dst, 0, n * perColumn);
  }

  /** As {@link #stage(int, int, int, byte[])}, for BF16. */
  void stage(int block, int c0, int n, short[] dst) {
    chunk(block).asShortBuffer().get(Math.toIntExact((start(block) + (long) c0 * ROWS * 2) / 2), dst, 0, n * ROWS);
  }

  /** As {@link #stage(int, int, int, byte[])}, for F32. */
  void stage(int block, int c0, int n, float[] dst) {
    chunk(block).asFloatBuffer().get(Math.toIntExact((start(block) + (long) c0 * ROWS * 4) / 4), dst, 0, n * ROWS);
  }

  private ByteBuffer chunk(int block) {
    return chunks[block / blocksPerChunk];
  }

  private long start(int block) {
    return (long) (block % blocksPerChunk) * blockBytes;
  }

  /** Exact value of element {@code (r, c)}, as the kernels widen it. */
  float get(int r, int c) {
    int block = r / ROWS;
    int lane = r % ROWS;
    ByteBuffer chunk = chunk(block);
    long at = start(block);
    int s = scales == null ? 0 : scaleOffset(block, c / groupSize) + lane;
    return switch (encoding) {
      case F32 -> chunk.getFloat(Math.toIntExact(at + ((long) c * ROWS + lane) * 4));
      case BF16 -> Float.intBitsToFloat(chunk.getShort(Math.toIntExact(at + ((long) c * ROWS + lane) * 2)) << 16);
      case FP8 -> Fp8Bits.value(chunk.get(Math.toIntExact(at + (long) c * ROWS + lane))) * scales[s];
      case INT8 -> ((float) chunk.get(Math.toIntExact(at + (long) c * ROWS + lane)) - offsets[s]) * scales[s];
      case INT4 -> {
        int b = chunk.get(Math.toIntExact(at + (long) c * (ROWS / 2) + lane % (ROWS / 2)));
        int u = (lane < ROWS / 2 ? b : b >> 4) & 0xF;
        yield ((float) u - offsets[s]) * scales[s];
      }
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
