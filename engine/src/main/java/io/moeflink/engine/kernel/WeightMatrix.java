package io.moeflink.engine.kernel;

import io.moeflink.engine.checkpoint.Bf16;
import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.checkpoint.Fp8E4M3;
import io.moeflink.engine.checkpoint.Tensor;
import java.nio.ByteBuffer;

/**
 * A projection weight {@code W} stored {@code [rows = out, cols = in]} in its checkpoint dtype
 * (memory-mapped, never expanded to F32). FP8 E4M3 weights carry their 128x128 block scales:
 * {@code W[i][j] = e4m3(code[i][j]) * scale_inv[i / 128][j / 128]} (trap 10: a multiplication).
 *
 * <p>A matrix may be a view of a row range of its tensor ({@link #rows(int, int)}), as MLA uses
 * the key and value halves of {@code kv_b_proj} per head.
 */
public final class WeightMatrix {
  /** FP8 block edge, rows and columns. */
  public static final int FP8_BLOCK = 128;

  /** {@code 2^120}: rebases E4M3 bits placed in an F32 exponent field (bias 7 vs 127). */
  static final float E4M3_REBIAS = 0x1p120f;

  private final String name;
  private final DType dtype;
  private final ByteBuffer data; // (storedRows, cols) little-endian
  private final int rowOffset; // first stored row of this view
  private final int rows;
  private final int cols;
  private final float[] scales; // FP8 only: (ceil(storedRows/128), ceil(cols/128))
  private final float[] rebiasedScales; // scales * 2^120, for the bit-level decode
  private final int scaleCols;
  private volatile RowBlocks blocks; // the CPU kernels' layout, made on first use
  private final Tensor source; // the checkpoint tensor, read without the mapping when re-laid out; or null

  private WeightMatrix(
      String name, DType dtype, ByteBuffer data, int rowOffset, int rows, int cols, float[] scales,
      float[] rebiasedScales, Tensor source) {
    this.source = source;
    this.name = name;
    this.dtype = dtype;
    this.data = data;
    this.rowOffset = rowOffset;
    this.rows = rows;
    this.cols = cols;
    this.scales = scales;
    this.rebiasedScales = rebiasedScales;
    this.scaleCols = (cols + FP8_BLOCK - 1) / FP8_BLOCK;
  }

  /** Loads {@code name} ({@code [rows, cols]}) and, for FP8, its {@code name_scale_inv}. */
  public static WeightMatrix load(Checkpoint checkpoint, String name, int rows, int cols) {
    Tensor t = checkpoint.tensor(name, rows, cols);
    float[] scales = null;
    float[] rebiased = null;
    if (t.dtype() == DType.F8_E4M3) {
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
      scales = s.toFloatArray();
      rebiased = new float[scales.length];
      for (int i = 0; i < scales.length; i++) {
        rebiased[i] = scales[i] * E4M3_REBIAS;
        if (!Float.isFinite(scales[i]) || !Float.isFinite(rebiased[i])) {
          throw new CheckpointException(
              "Tensor " + scaleName + " in " + s.file() + " has scale " + scales[i] + " at block " + i
                  + ", expected a finite value below 2^7");
        }
      }
    }
    return new WeightMatrix(name, t.dtype(), t.data(), 0, rows, cols, scales, rebiased, t);
  }

  /** Wraps F32 values already on the heap (tests, generated weights). */
  public static WeightMatrix ofFloats(String name, float[] values, int rows, int cols) {
    ByteBuffer b = ByteBuffer.allocateDirect(Math.multiplyExact(values.length, 4)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new WeightMatrix(name, DType.F32, b, 0, rows, cols, null, null, null);
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
    return new WeightMatrix(name, dtype, data.order(java.nio.ByteOrder.LITTLE_ENDIAN), 0, rows, cols, scales, rebiased,
        null);
  }

  /** The view of rows {@code [from, from + count)}. */
  public WeightMatrix rows(int from, int count) {
    if (from < 0 || count < 0 || from + count > rows) {
      throw new IndexOutOfBoundsException("rows [" + from + ", " + (from + count) + ") of " + name + " with " + rows);
    }
    return new WeightMatrix(name, dtype, data, rowOffset + from, count, cols, scales, rebiasedScales, source);
  }

  /**
   * Rows {@code [from, from + count)} of this view transposed into a new {@code (cols, count)}
   * matrix in a direct buffer. BF16 and F32 keep their dtype and bits, so every value is exactly
   * the stored one; FP8 becomes F32 with its block scales applied, because its 128x128 scale blocks
   * do not survive transposing a range of rows.
   */
  public WeightMatrix transposedRows(String name, int from, int count) {
    rows(from, count); // bounds
    DType out = dtype == DType.F8_E4M3 ? DType.F32 : dtype;
    ByteBuffer t = ByteBuffer.allocateDirect(Math.multiplyExact(count * cols, out.bytes())).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < count; r++) {
      for (int c = 0; c < cols; c++) {
        int at = c * count + r;
        if (dtype == DType.BF16) {
          t.putShort(2 * at, data.getShort(Math.toIntExact(((long) (rowOffset + from + r) * cols + c) * 2)));
        } else {
          t.putFloat(4 * at, get(from + r, c));
        }
      }
    }
    return new WeightMatrix(name, out, t, 0, cols, count, null, null, null);
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
          blocks = b;
        }
      }
    }
    return b;
  }

  /**
   * Copies the stored bytes of this view's rows {@code [r0, r0 + n)} into {@code dst} (from its
   * position, {@code n * cols * dtype.bytes()} bytes): from the checkpoint file where the matrix
   * came from one, so re-laying it out leaves no mapped pages resident.
   */
  void readRows(int r0, int n, ByteBuffer dst) {
    long rowBytes = (long) cols * dtype.bytes();
    ByteBuffer view = dst.duplicate();
    view.limit(Math.toIntExact(view.position() + n * rowBytes));
    if (source != null) {
      source.read((rowOffset + r0) * rowBytes, view);
    } else {
      ByteBuffer from = data.duplicate();
      from.position(Math.toIntExact((rowOffset + r0) * rowBytes)).limit(Math.toIntExact((rowOffset + r0 + n) * rowBytes));
      view.put(from);
    }
  }

  static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /** Exact value of element {@code (row, col)} of this view, in F32. */
  public float get(int row, int col) {
    int r = rowOffset + row;
    long index = (long) r * cols + col;
    return switch (dtype) {
      case F32 -> data.getFloat(Math.toIntExact(index * 4));
      case BF16 -> Bf16.decode(data.getShort(Math.toIntExact(index * 2)));
      case F8_E4M3 -> Fp8E4M3.decode(data.get(Math.toIntExact(index))) * scale(r, col);
    };
  }

  /** Decodes row {@code row} into {@code dst[0..cols)}. */
  public void decodeRow(int row, float[] dst) {
    for (int c = 0; c < cols; c++) {
      dst[c] = get(row, c);
    }
  }

  /**
   * The stored bytes of this view's rows, {@code (rows, cols)} row-major little-endian, read-only:
   * what a device backend uploads as it is, to decode next to its arithmetic.
   */
  public ByteBuffer storedRows() {
    long from = (long) rowOffset * cols * dtype.bytes();
    ByteBuffer view = data.duplicate();
    view.position(Math.toIntExact(from)).limit(Math.toIntExact(from + bytes()));
    return view.slice().asReadOnlyBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
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

  public String name() {
    return name;
  }

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

  ByteBuffer data() {
    return data;
  }

  /** Bytes of this view's elements (for bandwidth accounting). */
  public long bytes() {
    return (long) rows * cols * dtype.bytes();
  }
}
