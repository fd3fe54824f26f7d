package io.moeflink.workbench.modelgen;

import io.moeflink.engine.checkpoint.DType;
import io.moeflink.workbench.checkpoint.SafetensorsWriter.Tensor;
import io.moeflink.workbench.quantize.IntQuantization;
import io.moeflink.workbench.quantize.PackedIntTensors;
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
 * @param ints the integer quantization, for {@link Storage#INT_PACKED} only (else null)
 * @param drawnAs the name whose random stream the values come from: another weight's for an exact
 *     copy of it (the MTP module's embedding and head), else the weight's own
 */
record WeightSpec(
    String name, List<Long> shape, Storage storage, float mean, float std, IntQuantization ints, String drawnAs) {

  WeightSpec(String name, List<Long> shape, Storage storage, float mean, float std) {
    this(name, shape, storage, mean, std, null, name);
  }

  WeightSpec(String name, List<Long> shape, Storage storage, float mean, float std, IntQuantization ints) {
    this(name, shape, storage, mean, std, ints, name);
  }

  /** How the values land in the file. */
  enum Storage {
    BF16,
    F32,
    /** F8_E4M3 codes plus an F32 {@code <name>_scale_inv} of 128x128 block multipliers. */
    FP8_BLOCKS,
    /**
     * compressed-tensors {@code pack-quantized}: {@code <name>_packed} I32 words, {@code
     * <name>_scale} BF16 per row and group, {@code <name>_shape}, and {@code <name>_zero_point}
     * I32 (packed along the rows) when asymmetric.
     */
    INT_PACKED
  }

  /** Suffix HF checkpoints append to an FP8 weight's name for its block scales. */
  static final String SCALE_SUFFIX = "_scale_inv";

  WeightSpec {
    shape = List.copyOf(shape);
    if (shape.isEmpty() || shape.size() > 2) {
      throw new IllegalArgumentException(name + ": only vectors and matrices, got " + shape);
    }
    if ((storage == Storage.FP8_BLOCKS || storage == Storage.INT_PACKED) && shape.size() != 2) {
      throw new IllegalArgumentException(name + ": " + storage + " needs a matrix, got " + shape);
    }
    if ((storage == Storage.INT_PACKED) != (ints != null)) {
      throw new IllegalArgumentException(name + ": integer quantization goes with INT_PACKED storage only");
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
      case INT_PACKED -> intTensors();
    };
  }

  /** The tensors of an {@link Storage#INT_PACKED} weight. */
  private List<Tensor> intTensors() {
    return PackedIntTensors.declare(name, rows(), cols(), ints);
  }
}
