package io.moeflink.engine.checkpoint;

import java.nio.ByteBuffer;

/**
 * A tensor as stored: its header entry, the file it came from (for messages) and a read-only
 * view of its bytes (memory-mapped; never copied to the heap).
 *
 * @param source the file to read the bytes from without the mapping ({@link #read}), or null
 */
public record Tensor(TensorInfo info, String file, ByteBuffer data, SafetensorsFile source) {

  public Tensor(TensorInfo info, String file, ByteBuffer data) {
    this(info, file, data, null);
  }

  /**
   * Copies the tensor's bytes from {@code offset} into {@code dst} (to its limit) with positional
   * file reads, not through the mapping: a copy made once (the CPU kernels' re-laid-out weights)
   * then does not leave the mapped pages resident beside it.
   */
  public void read(long offset, ByteBuffer dst) {
    if (source == null) {
      ByteBuffer from = data.duplicate();
      from.position(Math.toIntExact(offset)).limit(Math.toIntExact(offset + dst.remaining()));
      dst.put(from);
      return;
    }
    source.read(info, offset, dst);
  }

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
