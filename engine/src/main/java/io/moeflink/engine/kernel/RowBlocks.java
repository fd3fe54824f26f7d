package io.moeflink.engine.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix re-laid out for the CPU kernels: blocks of {@link #ROWS} output rows, each
 * stored K-major ({@code (cols, 32)}: for every input column the 32 rows' weights side by side),
 * in the matrix's own encoding. A block's weights for a range of columns are one contiguous run,
 * which a kernel reads where it lies, widening in registers (few tokens) or once into its own F32
 * array for all the tokens it multiplies. Held in heap arrays of the encoding's
 * element type, as JDK 17's vectors read only arrays portably: reading in place rather than
 * staging a copy first runs a one-token tile 1.6-1.9x faster (docs/benchmarks.md). Rows past the
 * last are zero.
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
  /** Largest block, in bytes. */
  private static final int MAX_CHUNK_BYTES = 1 << 30;
  /**
   * Bytes of blocks an array holds (at least one block). G1 gives an array of half a region or more
   * (regions are 1-32 MiB by the heap's size) regions of its own, rounded up: a 1 MiB expert matrix
   * in one array would take two 1 MiB regions. Arrays this small are laid out like any object.
   */
  private static final int CHUNK_BYTES = 256 << 10;
  /**
   * Bytes of an array's header (at most), which a chunk leaves room for within {@link
   * #CHUNK_BYTES}. G1 copies the arrays that outlive a young collection into regions one after
   * another, and four arrays of 256 KiB and a header do not fit a 1 MiB region: each took three and
   * left a quarter unused ({@code small} needed a 2 GiB heap, now 1650 MiB, docs/benchmarks.md).
   */
  private static final int ARRAY_HEADER = 16;

  private final WeightEncoding encoding;
  private final int rows;
  private final int cols;
  private final int blocks;
  private final int blockBytes;
  private final int blocksPerChunk;
  private final Object[] chunks; // float[], short[] or byte[]: blocks, each (cols, ROWS) weights in the encoding
  private final float[] scales; // FP8: (blocks, colBlocks, ROWS) scale * 2^120; INT: (blocks, groups, ROWS)
  private final float[] offsets; // INT only: (blocks, groups, ROWS) what the kernel subtracts before scaling
  private final int scaleGroups; // FP8: 128-column blocks; INT: groups
  private final int groupSize; // FP8: 128; INT: the groups' size

  private RowBlocks(
      WeightEncoding encoding, int rows, int cols, Object[] chunks, int blocksPerChunk, float[] scales,
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

  /**
   * A heap array of {@code bytes} bytes in the encoding's element type, which the kernels read in
   * place; past the heap's limit, an error that says which setting raises it.
   */
  private static Object allocate(WeightMatrix w, int bytes, long total) {
    try {
      return switch (w.encoding()) {
        case F32 -> new float[bytes / 4];
        case BF16 -> new short[bytes / 2];
        case FP8, INT8, INT4 -> new byte[bytes];
      };
    } catch (OutOfMemoryError e) {
      OutOfMemoryError clear = new OutOfMemoryError("Out of heap re-laying out " + w.name() + " ("
          + (total >> 20) + " MiB): the CPU kernels keep the weights they use on the heap, about the size of"
          + " the dense weights (or of a shard's experts); raise -Xmx (bin/moe-flink: MOE_FLINK_JAVA_OPTS),"
          + " or on Flink taskmanager.memory.task.heap.size");
      clear.initCause(e);
      throw clear;
    }
  }

  /** Re-lays out {@code w}'s rows, reading each of its stored bytes once. */
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
    int perChunk = (int) Math.max(1, Math.min(blocks, (CHUNK_BYTES - ARRAY_HEADER) / Math.max(blockBytes, 1)));
    Object[] chunks = new Object[(blocks + perChunk - 1) / perChunk];
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
    ByteBuffer src = ByteBuffer.allocate(Math.multiplyExact(Math.min(ROWS, rows), w.rowBytes())).order(ByteOrder.LITTLE_ENDIAN);
    for (int block = 0; block < blocks; block++) {
      int r0 = block * ROWS;
      int n = Math.min(ROWS, rows - r0);
      transpose(w, r0, n, src, chunks[block / perChunk], Math.toIntExact((block % perChunk) * blockBytes));
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

  /**
   * Writes stored rows {@code [r0, r0 + n)} of {@code w}, read into {@code src} (room for {@link
   * #ROWS} rows, reused block after block so that a layout makes no garbage), into {@code dst} from
   * byte {@code dstAt} as one block.
   */
  private static void transpose(WeightMatrix w, int r0, int n, ByteBuffer src, Object dst, int dstAt) {
    int cols = w.cols();
    src.clear();
    w.readRows(r0, n, src);
    switch (w.encoding()) {
      case BF16 -> {
        short[] out = (short[]) dst;
        int o = dstAt / 2;
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            out[o + c * ROWS + lane] = src.getShort((lane * cols + c) * 2);
          }
        }
      }
      case FP8 -> {
        byte[] out = (byte[]) dst;
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            out[dstAt + c * ROWS + lane] = src.get(lane * cols + c);
          }
        }
      }
      case F32 -> {
        float[] out = (float[]) dst;
        int o = dstAt / 4;
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            out[o + c * ROWS + lane] = src.getFloat((lane * cols + c) * 4);
          }
        }
      }
      case INT8 -> {
        byte[] out = (byte[]) dst;
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            out[dstAt + c * ROWS + lane] = (byte) w.integer(w.rowOffset() + r0 + lane, c);
          }
        }
      }
      case INT4 -> {
        byte[] out = (byte[]) dst; // (cols, 16) from dstAt: row j low nibble, row j + 16 high; zero before
        for (int lane = 0; lane < n; lane++) {
          for (int c = 0; c < cols; c++) {
            int u = w.integer(w.rowOffset() + r0 + lane, c) + 8;
            int at = dstAt + c * (ROWS / 2) + lane % (ROWS / 2);
            out[at] = (byte) (lane < ROWS / 2 ? (out[at] & 0xF0) | u : (out[at] & 0x0F) | (u << 4));
          }
        }
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
   * The array holding block {@code block} ({@code float[]}, {@code short[]} or {@code byte[]} by
   * the encoding), whose column {@code c} starts at element {@code (firstColumn(block) + c) * 32}
   * ({@code * 16} for INT4): the kernels read it in place.
   */
  Object chunk(int block) {
    return chunks[block / blocksPerChunk];
  }

  /** Where block {@code block} starts in its {@link #chunk}, in columns. */
  int firstColumn(int block) {
    return (block % blocksPerChunk) * cols;
  }

  /** Copies F32 block {@code block}'s columns {@code [c0, c0 + n)} to {@code dst[0 ..)}, in its layout. */
  void stage(int block, int c0, int n, float[] dst) {
    System.arraycopy(chunk(block), (firstColumn(block) + c0) * ROWS, dst, 0, n * ROWS);
  }

  /** Exact value of element {@code (r, c)}, as the kernels widen it. */
  float get(int r, int c) {
    int block = r / ROWS;
    int lane = r % ROWS;
    int column = firstColumn(block) + c;
    int s = scales == null ? 0 : scaleOffset(block, c / groupSize) + lane;
    return switch (encoding) {
      case F32 -> ((float[]) chunk(block))[column * ROWS + lane];
      case BF16 -> Float.intBitsToFloat(((short[]) chunk(block))[column * ROWS + lane] << 16);
      case FP8 -> Fp8Bits.value(((byte[]) chunk(block))[column * ROWS + lane]) * scales[s];
      case INT8 -> ((float) ((byte[]) chunk(block))[column * ROWS + lane] - offsets[s]) * scales[s];
      case INT4 -> {
        int b = ((byte[]) chunk(block))[column * (ROWS / 2) + lane % (ROWS / 2)];
        int u = (lane < ROWS / 2 ? b : b >> 4) & 0xF;
        yield ((float) u - offsets[s]) * scales[s];
      }
    };
  }

  /** Bytes of the re-laid-out weights. */
  long bytes() {
    return (long) blocks * blockBytes;
  }
}
