package io.moeflink.engine.checkpoint;

import java.nio.ByteBuffer;

/**
 * A tensor as stored: its header entry, the file it came from (for messages) and a read-only
 * view of its bytes (memory-mapped; never copied to the heap).
 */
public record Tensor(TensorInfo info, String file, ByteBuffer data) {

  public String name() {
    return info.name();
  }

  public DType dtype() {
    return info.dtype();
  }

  public long[] shape() {
    return info.shape();
  }

  /** Reads element {@code index} as a float (F32 or BF16; FP8 needs its block scale). */
  public float getFloat(long index) {
    return switch (info.dtype()) {
      case F32 -> data.getFloat(Math.toIntExact(index * 4));
      case BF16 -> Bf16.decode(data.getShort(Math.toIntExact(index * 2)));
      case F8_E4M3 -> throw new IllegalStateException(name() + " is FP8: decode it with its weight_scale_inv");
    };
  }

  /** Copies the whole tensor to a float array (for small tensors only: norms, biases, scales). */
  public float[] toFloatArray() {
    float[] out = new float[Math.toIntExact(info.elementCount())];
    for (int i = 0; i < out.length; i++) {
      out[i] = getFloat(i);
    }
    return out;
  }
}
