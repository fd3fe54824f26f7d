package io.moeflink.workbench.modelgen;

import io.moeflink.engine.checkpoint.DType;
import io.moeflink.workbench.checkpoint.SafetensorsWriter.Tensor;
import java.util.List;

/**
 * One weight of the model: its name, shape, how it is stored and the distribution it is drawn from
 * ({@code mean + std * gaussian}).
 *
 * @param name Hugging Face tensor name
 * @param shape {@code [n]} for vectors, {@code [out, in]} for matrices
 * @param storage stored dtype (FP8 adds a scale tensor)
 * @param mean centre of the initial values
 * @param std spread of the initial values
 */
record WeightSpec(String name, List<Long> shape, Storage storage, float mean, float std) {

  /** How the values land in the file. */
  enum Storage {
    BF16,
    F32,
    /** F8_E4M3 codes plus an F32 {@code <name>_scale_inv} of 128x128 block multipliers. */
    FP8_BLOCKS
  }

  /** Suffix HF checkpoints append to an FP8 weight's name for its block scales. */
  static final String SCALE_SUFFIX = "_scale_inv";

  WeightSpec {
    shape = List.copyOf(shape);
    if (shape.isEmpty() || shape.size() > 2) {
      throw new IllegalArgumentException(name + ": only vectors and matrices, got " + shape);
    }
    if (storage == Storage.FP8_BLOCKS && shape.size() != 2) {
      throw new IllegalArgumentException(name + ": FP8 blocks need a matrix, got " + shape);
    }
  }

  /** Rows of the row-major layout; a vector is one row. */
  long rows() {
    return shape.size() == 2 ? shape.get(0) : 1;
  }

  /** Elements per row. */
  long cols() {
    return shape.get(shape.size() - 1);
  }

  long elements() {
    return Math.multiplyExact(rows(), cols());
  }

  /** Name of the FP8 scale tensor. */
  String scaleName() {
    return name + SCALE_SUFFIX;
  }

  /** The tensors this weight occupies in the checkpoint, the weight first. */
  List<Tensor> storedTensors() {
    long[] dims = shape.stream().mapToLong(Long::longValue).toArray();
    return switch (storage) {
      case BF16 -> List.of(Tensor.of(name, DType.BF16, dims));
      case F32 -> List.of(Tensor.of(name, DType.F32, dims));
      case FP8_BLOCKS ->
          List.of(
              Tensor.of(name, DType.F8_E4M3, dims),
              Tensor.of(scaleName(), DType.F32, Fp8BlockQuantizer.scaleShape(rows(), cols())));
    };
  }
}
