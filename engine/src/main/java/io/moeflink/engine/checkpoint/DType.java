package io.moeflink.engine.checkpoint;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The safetensors element types this engine reads. */
public enum DType {
  F32("F32", 4),
  BF16("BF16", 2),
  F8_E4M3("F8_E4M3", 1),
  /** Scales of some quantized checkpoints. */
  F16("F16", 2),
  /** INT8 weights as they are (compressed-tensors {@code int-quantized}), zero points. */
  I8("I8", 1),
  /** Packed INT4/INT8 weights and packed zero points (compressed-tensors {@code pack-quantized}), shapes. */
  I32("I32", 4),
  /** Shapes ({@code weight_shape} of older compressed-tensors files). */
  I64("I64", 8);

  private final String code;
  private final int bytes;

  DType(String code, int bytes) {
    this.code = code;
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** The name safetensors headers use. */
  public String code() {
    return code;
  }

  /** Parses a header dtype, or throws naming the supported ones. */
  public static DType parse(String code, String tensor, String file) {
    for (DType t : values()) {
      if (t.code.equals(code)) {
        return t;
      }
    }
    throw new CheckpointException(
        "Tensor " + tensor + " in " + file + " has dtype " + code + ", expected one of "
            + Arrays.stream(values()).map(DType::code).collect(Collectors.joining(", ")));
  }
}
