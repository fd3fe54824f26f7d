package io.moeflink.engine.kernel;

import io.moeflink.engine.checkpoint.Bf16;
import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.checkpoint.Fp8E4M3;
import io.moeflink.engine.checkpoint.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A projection weight {@code W} stored {@code [rows = out, cols = in]} in its checkpoint's
 * encoding ({@link WeightEncoding}), never expanded to F32:
 *
 * <ul>
 *   <li>F32 and BF16 as stored;
 *   <li>FP8 E4M3 with its 128x128 block scales: {@code W[i][j] = e4m3(code[i][j]) *
 *       scale_inv[i / 128][j / 128]} (trap 10: a multiplication);
 *   <li>INT8 and INT4 in the compressed-tensors layout: {@code W[i][j] = (q[i][j] - zero[i][g]) *
 *       scale[i][g]} per row and group of columns ({@link IntGroups}); {@code name_packed} holds
 *       the integers offset to unsigned and packed into int32 words (8 nibbles or 4 bytes a word,
 *       the first column in the lowest bits), or {@code name} holds them as I8.
 * </ul>
 *
 * <p>A matrix may be a view of a row range of its tensor ({@link #rows(int, int)}), as MLA uses
 * the key and value halves of {@code kv_b_proj} per head. The CPU kernels multiply a re-laid-out
 * copy ({@link RowBlocks}), made on first use from the file itself.
 */
public final class WeightMatrix {
  /** FP8 block edge, rows and columns. */
  public static final int FP8_BLOCK = 128;

  /** {@code 2^120}: rebases E4M3 bits placed in an F32 exponent field (bias 7 vs 127). */
  static final float E4M3_REBIAS = 0x1p120f;

  private final String name;
  private final WeightEncoding encoding;
  private final DType dtype; // of the stored data: F32, BF16, F8_E4M3, I8 or I32 (packed)
  private final ByteBuffer data; // (storedRows, rowBytes) little-endian
  private final int rowBytes; // stored bytes per row (packed rows pad to whole words)
  private final int valueOffset; // packed integers: stored unsigned value - offset = q; 0 for I8
  private final int rowOffset; // first stored row of this view
  private final int rows;
  private final int cols;
  private final float[] scales; // FP8 only: (ceil(storedRows/128), ceil(cols/128))
  private final float[] rebiasedScales; // scales * 2^120, for the bit-level decode
  private final int scaleCols;
  private final IntGroups ints; // INT8 and INT4 only
  private final Tensor source; // the checkpoint tensor, read without the mapping when re-laid out; or null
  private static final LongAdder LAID_OUT_BYTES = new LongAdder();
  private volatile RowBlocks blocks; // the CPU kernels' layout, made on first use

  private WeightMatrix(
      String name, WeightEncoding encoding, DType dtype, ByteBuffer data, int rowBytes, int valueOffset, int rowOffset,
      int rows, int cols, float[] scales, float[] rebiasedScales, IntGroups ints, Tensor source) {
    this.name = name;
    this.encoding = encoding;
    this.dtype = dtype;
    this.data = data;
    this.rowBytes = rowBytes;
    this.valueOffset = valueOffset;
    this.rowOffset = rowOffset;
    this.rows = rows;
    this.cols = cols;
    this.scales = scales;
    this.rebiasedScales = rebiasedScales;
    this.scaleCols = (cols + FP8_BLOCK - 1) / FP8_BLOCK;
    this.ints = ints;
    this.source = source;
  }

  /**
   * Loads {@code name} ({@code [rows, cols]}) with what its encoding needs: FP8's {@code
   * name_scale_inv}; compressed-tensors' {@code name_packed}, {@code name_shape}, {@code
   * name_scale} and, for asymmetric quantization, {@code name_zero_point}.
   */
  public static WeightMatrix load(Checkpoint checkpoint, String name, int rows, int cols) {
    if (checkpoint.contains(name + "_packed")) {
      return loadPacked(checkpoint, name, rows, cols);
    }
    Tensor t = checkpoint.tensor(name, rows, cols);
    return switch (t.dtype()) {
      case F32, BF16 -> new WeightMatrix(name, t.dtype() == DType.F32 ? WeightEncoding.F32 : WeightEncoding.BF16,
          t.dtype(), t.data(), cols * t.dtype().bytes(), 0, 0, rows, cols, null, null, null, t);
      case F8_E4M3 -> loadFp8(checkpoint, name, t, rows, cols);
      case I8 -> new WeightMatrix(name, WeightEncoding.INT8, DType.I8, t.data(), cols, 0, 0, rows, cols, null, null,
          groups(checkpoint, name, t.file(), rows, cols, 8, false), t);
      default -> throw new CheckpointException(
          "Tensor " + name + " in " + t.file() + " has dtype " + t.dtype().code()
              + ", expected a weight in F32, BF16, F8_E4M3, I8, or packed as " + name + "_packed");
    };
  }

  private static WeightMatrix loadFp8(Checkpoint checkpoint, String name, Tensor t, int rows, int cols) {
    String scaleName = name + "_scale_inv";
    if (!checkpoint.contains(scaleName)) {
      throw new CheckpointException(
          "Tensor " + name + " in " + t.file() + " is F8_E4M3 but " + scaleName + " is missing");
    }
    Tensor s = checkpoint.tensor(scaleName, ceilDiv(rows, FP8_BLOCK), ceilDiv(cols, FP8_BLOCK));
    if (s.dtype() != DType.F32 && s.dtype() != DType.BF16) {
      throw new CheckpointException(
          "Tensor " + scaleName + " in " + s.file() + " has dtype " + s.dtype().code() + ", expected F32");
    }
    float[] scales = s.toFloatArray();
    float[] rebiased = new float[scales.length];
    for (int i = 0; i < scales.length; i++) {
      rebiased[i] = scales[i] * E4M3_REBIAS;
      if (!Float.isFinite(scales[i]) || !Float.isFinite(rebiased[i])) {
        throw new CheckpointException(
            "Tensor " + scaleName + " in " + s.file() + " has scale " + scales[i] + " at block " + i
                + ", expected a finite value below 2^7");
      }
    }
    return new WeightMatrix(name, WeightEncoding.FP8, DType.F8_E4M3, t.data(), cols, 0, 0, rows, cols, scales, rebiased,
        null, t);
  }

  /** compressed-tensors {@code pack-quantized}: 4- or 8-bit integers packed into int32 words. */
  private static WeightMatrix loadPacked(Checkpoint checkpoint, String name, int rows, int cols) {
    Tensor packed = checkpoint.tensor(name + "_packed");
    long[] shape = packed.shape();
    if (packed.dtype() != DType.I32 || shape.length != 2 || shape[0] != rows) {
      throw new CheckpointException(
          "Tensor " + name + "_packed in " + packed.file() + " has dtype " + packed.dtype().code() + " and shape "
              + packed.info().shapeText() + ", expected I32 [" + rows + ", packed columns]");
    }
    if (checkpoint.contains(name + "_shape")) {
      Tensor declared = checkpoint.tensor(name + "_shape", 2);
      if (declared.getLong(0) != rows || declared.getLong(1) != cols) {
        throw new CheckpointException(
            "Tensor " + name + "_shape in " + declared.file() + " is [" + declared.getLong(0) + ", "
                + declared.getLong(1) + "], expected [" + rows + ", " + cols + "]");
      }
    }
    int bits;
    if (shape[1] == ceilDiv(cols, 8) && cols > 4) {
      bits = 4;
    } else if (shape[1] == ceilDiv(cols, 4)) {
      bits = 8;
    } else {
      throw new CheckpointException(
          "Tensor " + name + "_packed in " + packed.file() + " has " + shape[1] + " words a row for " + cols
              + " columns, expected " + ceilDiv(cols, 8) + " (4 bits) or " + ceilDiv(cols, 4) + " (8 bits)");
    }
    IntGroups groups = groups(checkpoint, name, packed.file(), rows, cols, bits, true);
    return new WeightMatrix(name, bits == 4 ? WeightEncoding.INT4 : WeightEncoding.INT8, DType.I32, packed.data(),
        Math.toIntExact(shape[1] * 4), 1 << (bits - 1), 0, rows, cols, null, null, groups, packed);
  }

  /** {@code name_scale} and the optional {@code name_zero_point} of an integer matrix. */
  private static IntGroups groups(
      Checkpoint checkpoint, String name, String file, int rows, int cols, int bits, boolean packedZeros) {
    String scaleName = name + "_scale";
    if (!checkpoint.contains(scaleName)) {
      throw new CheckpointException("Tensor " + name + " in " + file + " is " + bits + "-bit but " + scaleName + " is missing");
    }
    Tensor s = checkpoint.tensor(scaleName);
    long[] shape = s.shape();
    if (shape.length != 2 || shape[0] != rows || shape[1] < 1 || cols % shape[1] != 0
        || (s.dtype() != DType.F32 && s.dtype() != DType.BF16 && s.dtype() != DType.F16)) {
      throw new CheckpointException(
          "Tensor " + scaleName + " in " + s.file() + " has dtype " + s.dtype().code() + " and shape "
              + s.info().shapeText() + ", expected F32, BF16 or F16 [" + rows + ", groups] with groups dividing " + cols);
    }
    int groups = Math.toIntExact(shape[1]);
    float[] scales = s.toFloatArray();
    for (int i = 0; i < scales.length; i++) {
      if (!Float.isFinite(scales[i])) {
        throw new CheckpointException("Tensor " + scaleName + " in " + s.file() + " has scale " + scales[i] + " at " + i);
      }
    }
    byte[] zeros = null;
    String zeroName = name + "_zero_point";
    if (checkpoint.contains(zeroName)) {
      zeros = zeros(checkpoint.tensor(zeroName), zeroName, rows, groups, bits, packedZeros);
    }
    return new IntGroups(cols / groups, groups, scales, zeros);
  }

  /** Zero points: I8 {@code [rows, groups]}, or offset and packed along the rows into I32 words. */
  private static byte[] zeros(Tensor z, String name, int rows, int groups, int bits, boolean packed) {
    byte[] zeros = new byte[rows * groups];
    if (!packed || z.dtype() == DType.I8) {
      if (z.dtype() != DType.I8 || z.info().elementCount() != (long) rows * groups) {
        throw new CheckpointException("Tensor " + name + " in " + z.file() + " has dtype " + z.dtype().code() + " and shape "
            + z.info().shapeText() + ", expected I8 [" + rows + ", " + groups + "]");
      }
      for (int i = 0; i < zeros.length; i++) {
        zeros[i] = (byte) z.getLong(i);
      }
      return zeros;
    }
    int perWord = 32 / bits;
    long[] shape = z.shape();
    if (z.dtype() != DType.I32 || shape.length != 2 || shape[0] != ceilDiv(rows, perWord) || shape[1] != groups) {
      throw new CheckpointException("Tensor " + name + " in " + z.file() + " has dtype " + z.dtype().code() + " and shape "
          + z.info().shapeText() + ", expected I32 [" + ceilDiv(rows, perWord) + ", " + groups + "] (packed along rows)");
    }
    int mask = (1 << bits) - 1;
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < groups; g++) {
        long word = z.getLong((long) (r / perWord) * groups + g);
        int unsigned = (int) (word >>> (bits * (r % perWord))) & mask;
        zeros[r * groups + g] = (byte) (unsigned - (1 << (bits - 1)));
      }
    }
    return zeros;
  }

  /** Wraps F32 values already on the heap (tests, generated weights). */
  public static WeightMatrix ofFloats(String name, float[] values, int rows, int cols) {
    ByteBuffer b = ByteBuffer.allocateDirect(Math.multiplyExact(values.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new WeightMatrix(name, WeightEncoding.F32, DType.F32, b, cols * 4, 0, 0, rows, cols, null, null, null, null);
  }

  /** Wraps raw stored bytes (tests): F32, BF16, or FP8 with scales. */
  public static WeightMatrix ofBytes(String name, DType dtype, ByteBuffer data, int rows, int cols, float[] scales) {
    float[] rebiased = null;
    if (scales != null) {
      rebiased = new float[scales.length];
      for (int i = 0; i < scales.length; i++) {
        rebiased[i] = scales[i] * E4M3_REBIAS;
      }
    }
    WeightEncoding encoding = switch (dtype) {
      case F32 -> WeightEncoding.F32;
      case BF16 -> WeightEncoding.BF16;
      case F8_E4M3 -> WeightEncoding.FP8;
      default -> throw new IllegalArgumentException("ofBytes takes F32, BF16 or F8_E4M3, not " + dtype);
    };
    return new WeightMatrix(name, encoding, dtype, data.order(ByteOrder.LITTLE_ENDIAN), cols * dtype.bytes(), 0, 0, rows,
        cols, scales, rebiased, null, null);
  }

  /**
   * Wraps packed integers (tests): {@code bits} 4 or 8, rows of {@code ceil(cols * bits / 32)}
   * little-endian int32 words holding {@code q + 2^(bits-1)}; {@code scales} and {@code zeros}
   * (null for symmetric) {@code (rows, cols / groupSize)}.
   */
  public static WeightMatrix ofPacked(
      String name, int bits, ByteBuffer packed, int rows, int cols, int groupSize, float[] scales, byte[] zeros) {
    if (bits != 4 && bits != 8) {
      throw new IllegalArgumentException("bits is " + bits + ", expected 4 or 8");
    }
    int words = ceilDiv(cols * bits, 32);
    IntGroups groups = new IntGroups(groupSize, ceilDiv(cols, groupSize), scales.clone(), zeros == null ? null : zeros.clone());
    return new WeightMatrix(name, bits == 4 ? WeightEncoding.INT4 : WeightEncoding.INT8, DType.I32,
        packed.order(ByteOrder.LITTLE_ENDIAN), words * 4, 1 << (bits - 1), 0, rows, cols, null, null, groups, null);
  }

  /** The view of rows {@code [from, from + count)}. */
  public WeightMatrix rows(int from, int count) {
    if (from < 0 || count < 0 || from + count > rows) {
      throw new IndexOutOfBoundsException("rows [" + from + ", " + (from + count) + ") of " + name + " with " + rows);
    }
    return new WeightMatrix(name, encoding, dtype, data, rowBytes, valueOffset, rowOffset + from, count, cols, scales,
        rebiasedScales, ints, source);
  }

  /**
   * Rows {@code [from, from + count)} of this view transposed into a new {@code (cols, count)}
   * matrix in a direct buffer. BF16 and F32 keep their dtype and bits, so every value is exactly
   * the stored one; FP8 and the integer encodings become F32 with their scales applied, because
   * their blocks and groups do not survive transposing a range of rows.
   */
  public WeightMatrix transposedRows(String name, int from, int count) {
    rows(from, count); // bounds
    DType out = dtype == DType.BF16 ? DType.BF16 : DType.F32;
    ByteBuffer t = ByteBuffer.allocateDirect(Math.multiplyExact(count * cols, out.bytes())).order(ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < count; r++) {
      for (int c = 0; c < cols; c++) {
        int at = c * count + r;
        if (out == DType.BF16) {
          t.putShort(2 * at, data.getShort(Math.toIntExact(((long) (rowOffset + from + r) * cols + c) * 2)));
        } else {
          t.putFloat(4 * at, get(from + r, c));
        }
      }
    }
    WeightEncoding encoding = out == DType.BF16 ? WeightEncoding.BF16 : WeightEncoding.F32;
    return new WeightMatrix(name, encoding, out, t, count * out.bytes(), 0, 0, cols, count, null, null, null, null);
  }

  /** Bytes of weights re-laid out for the CPU kernels in this JVM so far ({@link #blocks}). */
  public static long laidOutBytes() {
    return LAID_OUT_BYTES.sum();
  }

  /**
   * This matrix re-laid out for the CPU kernels ({@link RowBlocks}), made on the first call and
   * kept: a shard's experts or a per-head view that the CPU never multiplies costs nothing.
   */
  RowBlocks blocks() {
    RowBlocks b = blocks;
    if (b == null) {
      synchronized (this) {
        b = blocks;
        if (b == null) {
          b = RowBlocks.of(this);
          LAID_OUT_BYTES.add(b.bytes());
          blocks = b;
        }
      }
    }
    return b;
  }

  /**
   * Copies the stored bytes of this view's rows {@code [r0, r0 + n)} into {@code dst} (from its
   * position, {@code n * rowBytes()} bytes): from the checkpoint file where the matrix came from
   * one, so re-laying it out leaves no mapped pages resident.
   */
  void readRows(int r0, int n, ByteBuffer dst) {
    ByteBuffer view = dst.duplicate();
    view.limit(Math.toIntExact(view.position() + (long) n * rowBytes));
    long first = (long) (rowOffset + r0) * rowBytes;
    if (source != null) {
      source.read(first, view);
    } else {
      ByteBuffer from = data.duplicate();
      from.position(Math.toIntExact(first)).limit(Math.toIntExact(first + (long) n * rowBytes));
      view.put(from);
    }
  }

  static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** Exact value of element {@code (row, col)} of this view, in F32. */
  public float get(int row, int col) {
    int r = rowOffset + row;
    long at = (long) r * rowBytes;
    return switch (encoding) {
      case F32 -> data.getFloat(Math.toIntExact(at + 4L * col));
      case BF16 -> Bf16.decode(data.getShort(Math.toIntExact(at + 2L * col)));
      case FP8 -> Fp8E4M3.decode(data.get(Math.toIntExact(at + col))) * scale(r, col);
      case INT8, INT4 -> (float) (integer(r, col) - ints.zero(r, col)) * ints.scale(r, col);
    };
  }

  /** The integer {@code q} of stored element {@code (storedRow, col)} of an INT8 or INT4 matrix. */
  int integer(int storedRow, int col) {
    long at = (long) storedRow * rowBytes;
    if (encoding == WeightEncoding.INT4) {
      int b = data.get(Math.toIntExact(at + col / 2));
      return ((col % 2 == 0 ? b : b >> 4) & 0xF) - valueOffset;
    }
    int b = data.get(Math.toIntExact(at + col));
    return dtype == DType.I8 ? b : (b & 0xFF) - valueOffset;
  }

  /** Decodes row {@code row} into {@code dst[0..cols)}. */
  public void decodeRow(int row, float[] dst) {
    for (int c = 0; c < cols; c++) {
      dst[c] = get(row, c);
    }
  }

  /**
   * The stored bytes of this view's rows, {@code (rows, rowBytes)} row-major little-endian,
   * read-only: what a device backend uploads as it is, to decode next to its arithmetic.
   */
  public ByteBuffer storedRows() {
    long from = (long) rowOffset * rowBytes;
    ByteBuffer view = data.duplicate();
    view.position(Math.toIntExact(from)).limit(Math.toIntExact(from + (long) rows * rowBytes));
    return view.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * FP8 only (else null): a copy of the whole stored tensor's block scales, {@code
   * (ceil(storedRows / 128), ceil(cols / 128))} row-major. A view's row {@code r} uses scale row
   * {@code (firstStoredRow() + r) / 128}.
   */
  public float[] blockScales() {
    return scales == null ? null : scales.clone();
  }

  /** The stored row this view starts at; 0 unless made by {@link #rows(int, int)}. */
  public int firstStoredRow() {
    return rowOffset;
  }

  float scale(int storedRow, int col) {
    return scales[(storedRow / FP8_BLOCK) * scaleCols + col / FP8_BLOCK];
  }

  float rebiasedScale(int storedRow, int colBlock) {
    return rebiasedScales[(storedRow / FP8_BLOCK) * scaleCols + colBlock];
  }

  /** INT8 and INT4 only: the scales and zero points. */
  IntGroups ints() {
    return ints;
  }

  public String name() {
    return name;
  }

  public WeightEncoding encoding() {
    return encoding;
  }

  /** The stored data's element type: F32, BF16, F8_E4M3, I8, or I32 for packed integers. */
  public DType dtype() {
    return dtype;
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  int rowOffset() {
    return rowOffset;
  }

  /** Stored bytes per row. */
  int rowBytes() {
    return rowBytes;
  }

  ByteBuffer data() {
    return data;
  }

  /** Bytes of this view's weights (scales not counted; for bandwidth accounting). */
  public long bytes() {
    return (long) rows * cols * encoding.bits() / 8;
  }

  /** {@link #bytes()} of all of {@code weights}. */
  public static long bytes(List<WeightMatrix> weights) {
    return weights.stream().mapToLong(WeightMatrix::bytes).sum();
  }
}
