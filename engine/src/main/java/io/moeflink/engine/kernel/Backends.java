package io.moeflink.engine.kernel;

import io.moeflink.engine.kernel.cuda.CudaBackend;
import java.util.Locale;

/** Chooses a backend by name; fails loudly rather than silently falling back. */
public final class Backends {
  private Backends() {}

  /** Whether {@code jdk.incubator.vector} was added to this JVM ({@code --add-modules}). */
  public static boolean vectorApiPresent() {
    return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
  }

  /**
   * {@code auto} (the Vector API where present, else scalar), {@code vector} or {@code scalar}.
   *
   * @throws IllegalArgumentException for an unknown name, or {@code vector} without the module
   */
  public static KernelBackend cpu(String name, int threads) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "auto" -> vectorApiPresent() ? new VectorBackend(threads) : new ScalarBackend(threads);
      case "scalar" -> new ScalarBackend(threads);
      case "vector" -> {
        if (!vectorApiPresent()) {
          throw new IllegalArgumentException(
              "Backend 'vector' needs the Vector API: start the JVM with --add-modules jdk.incubator.vector");
        }
        yield new VectorBackend(threads);
      }
      default -> throw new IllegalArgumentException(
          "Unknown backend '" + name + "', expected auto, vector or scalar (or cuda, through create)");
    };
  }

  /**
   * {@code cuda} on CUDA device {@code cudaDevice} (with {@code threads} host threads for the
   * operations it keeps on the CPU), or one of the CPU backends of {@link #cpu}, which ignore
   * {@code cudaDevice}.
   *
   * @throws IllegalStateException for {@code cuda} without JCuda natives, driver or that device;
   *     the message names what is missing
   */
  public static KernelBackend create(String name, int threads, int cudaDevice) {
    if (name.equalsIgnoreCase("cuda")) {
      return CudaBackend.open(cudaDevice, threads);
    }
    return cpu(name, threads);
  }

  /** The default: {@code auto} with one thread per available processor. */
  public static KernelBackend defaultCpu() {
    return cpu("auto", Runtime.getRuntime().availableProcessors());
  }
}
