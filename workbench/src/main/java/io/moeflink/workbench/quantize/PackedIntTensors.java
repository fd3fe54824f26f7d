package io.moeflink.workbench.quantize;

import io.moeflink.engine.checkpoint.DType;
import io.moeflink.workbench.checkpoint.SafetensorsWriter;
import io.moeflink.workbench.checkpoint.SafetensorsWriter.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The tensors of one compressed-tensors {@code pack-quantized} projection {@code name}: {@code
 * name_packed} I32 {@code (rows, ceil(cols / perWord))}, {@code name_scale} BF16 {@code (rows,
 * groups)}, {@code name_shape} I32 {@code [rows, cols]}, and for asymmetric quantization {@code
 * name_zero_point} I32 {@code (ceil(rows / perWord), groups)}, packed along the rows.
 */
public final class PackedIntTensors {
  private PackedIntTensors() {}

  /** The tensors to declare for an {@code (rows, cols)} projection. */
  public static List<Tensor> declare(String name, long rows, long cols, IntQuantization q) {
    int group = q.groupFor(Math.toIntExact(cols));
    if (cols % group != 0) {
      throw new IllegalArgumentException(
          name + " has " + cols + " columns, not a multiple of the group size " + group);
    }
    long groups = cols / group;
    List<Tensor> tensors = new ArrayList<>(List.of(
        Tensor.of(name + "_packed", DType.I32, rows, ceilDiv(cols, q.perWord())),
        Tensor.of(name + "_scale", DType.BF16, rows, groups),
        Tensor.of(name + "_shape", DType.I32, 2)));
    if (!q.symmetric()) {
      tensors.add(Tensor.of(name + "_zero_point", DType.I32, ceilDiv(rows, q.perWord()), groups));
    }
    return tensors;
  }

  /**
   * Writes quantized rows {@code [rowBegin, rowBegin + rows.rows())} of projection {@code name},
   * which has {@code totalRows} rows. {@code rowBegin} is a multiple of {@code perWord}, so that
   * the zero points of a chunk fill whole words.
   */
  public static void write(
      IntQuantizer.Rows rows, String name, long rowBegin, long totalRows, Function<String, SafetensorsWriter> writers)
      throws IOException {
    IntQuantization q = rows.q();
    if (rowBegin % q.perWord() != 0) {
      throw new IllegalArgumentException("Row " + rowBegin + " of " + name + " is not a multiple of " + q.perWord());
    }
    ByteBuffer words = ByteBuffer.allocate(rows.words().length * 4).order(ByteOrder.LITTLE_ENDIAN);
    words.asIntBuffer().put(rows.words());
    writers.apply(name + "_packed").write(name + "_packed", rowBegin * rows.wordsPerRow() * 4, words);
    ByteBuffer scales = ByteBuffer.allocate(rows.scales().length * 2).order(ByteOrder.LITTLE_ENDIAN);
    scales.asShortBuffer().put(rows.scales());
    writers.apply(name + "_scale").write(name + "_scale", rowBegin * rows.groups() * 2, scales);
    if (rowBegin == 0) {
      ByteBuffer shape = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      shape.putInt(Math.toIntExact(totalRows)).putInt(rows.cols()).flip();
      writers.apply(name + "_shape").write(name + "_shape", 0, shape);
    }
    if (!q.symmetric()) {
      int[] packed = rows.packedZeros();
      ByteBuffer zeros = ByteBuffer.allocate(packed.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      zeros.asIntBuffer().put(packed);
      long wordRow = rowBegin / q.perWord();
      writers.apply(name + "_zero_point").write(name + "_zero_point", wordRow * rows.groups() * 4, zeros);
    }
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
