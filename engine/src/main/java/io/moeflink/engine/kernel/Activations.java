package io.moeflink.engine.kernel;

/**
 * A buffer of F32 activations that lives where its {@link KernelBackend} computes: a heap array for
 * the CPU backends, device memory for CUDA. A forward pass allocates its buffers once ({@link
 * KernelBackend#allocate}) and hands them to the backend's block operations; only the new tokens'
 * embeddings go in ({@link KernelBackend#write}) and only what the host needs (routing scores,
 * rows for the expert shards, logits) comes out ({@link KernelBackend#toHost}).
 *
 * <p>A buffer belongs to the backend that made it; passing it to another backend fails.
 */
public interface Activations extends AutoCloseable {

  /** Capacity in floats. */
  int length();

  /** Frees device memory at once (a no-op for heap buffers, which the GC reclaims). */
  @Override
  void close();
}
