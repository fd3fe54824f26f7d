package io.moeflink.engine.kernel;

import java.util.Locale;

/** Chooses a CPU backend by name; fails loudly rather than silently falling back. */
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
          "Unknown backend '" + name + "', expected auto, vector or scalar (cuda is chosen by the GPU module)");
    };
  }

  /** The default: {@code auto} with one thread per available processor. */
  public static KernelBackend defaultCpu() {
    return cpu("auto", Runtime.getRuntime().availableProcessors());
  }
}
