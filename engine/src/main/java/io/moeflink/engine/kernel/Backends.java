package io.moeflink.engine.kernel;

import io.moeflink.engine.kernel.cuda.CudaBackend;

/** Creates a backend of a {@link BackendKind}; fails loudly rather than silently falling back. */
public final class Backends {
  private Backends() {}

  /** Whether {@code jdk.incubator.vector} was added to this JVM ({@code --add-modules}). */
  public static boolean vectorApiPresent() {
    return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
  }

  /**
   * A CPU backend: {@code AUTO} (the Vector API where present, else scalar), {@code VECTOR} or
   * {@code SCALAR}.
   *
   * @throws IllegalArgumentException for {@code VECTOR} without the module, or {@code CUDA}
   */
  public static KernelBackend cpu(BackendKind kind, int threads) {
    return switch (kind) {
      case AUTO -> vectorApiPresent() ? new VectorBackend(threads) : new ScalarBackend(threads);
      case SCALAR -> new ScalarBackend(threads);
      case VECTOR -> {
        if (!vectorApiPresent()) {
          throw new IllegalArgumentException(
              "Backend 'vector' needs the Vector API: start the JVM with --add-modules jdk.incubator.vector");
        }
        yield new VectorBackend(threads);
      }
      case CUDA -> throw new IllegalArgumentException("Backend 'cuda' is not a CPU backend: use Backends.create");
    };
  }

  /**
   * A backend of {@code kind}: for {@code CUDA} on device {@code cudaDevice} (as numbered after
   * {@code CUDA_VISIBLE_DEVICES}) with {@code threads} host threads; the CPU kinds ignore it.
   *
   * @throws IllegalStateException for {@code CUDA} without JCuda natives, driver or that device;
   *     the message names what is missing
   */
  public static KernelBackend create(BackendKind kind, int threads, int cudaDevice) {
    return kind == BackendKind.CUDA ? CudaBackend.open(cudaDevice, threads) : cpu(kind, threads);
  }

  /** The default: {@code AUTO} with one thread per available processor. */
  public static KernelBackend defaultCpu() {
    return cpu(BackendKind.AUTO, Runtime.getRuntime().availableProcessors());
  }
}
