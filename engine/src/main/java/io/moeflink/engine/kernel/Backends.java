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

  /**
   * The backend of one operator subtask. For {@code cuda} the device is chosen by {@link
   * io.moeflink.engine.kernel.cuda.GpuDeviceSelector} from the TaskManager's GPU external
   * resources, a configured device, {@code CUDA_VISIBLE_DEVICES} and the subtask index; without a
   * usable CUDA device this fails with a message naming what is missing.
   *
   * @param gpuIndexes the {@code index} properties of the TaskManager's {@code gpu} external
   *     resources (empty on a MiniCluster)
   * @param cudaVisibleDevices the environment's {@code CUDA_VISIBLE_DEVICES}, or null
   */
  public static KernelBackend forSubtask(
      String name, int threads, java.util.Collection<String> gpuIndexes, java.util.OptionalInt configuredDevice,
      String cudaVisibleDevices, int subtask) {
    if (!name.equalsIgnoreCase("cuda")) {
      return cpu(name, threads);
    }
    io.moeflink.engine.kernel.cuda.CudaAvailability cuda = io.moeflink.engine.kernel.cuda.CudaAvailability.probe();
    if (!cuda.available()) {
      throw new IllegalStateException(
          "Backend 'cuda' is configured but CUDA is unusable here: " + cuda.problem() + "; configure backend 'auto' to run on the CPU");
    }
    io.moeflink.engine.kernel.cuda.GpuDeviceSelector.Choice choice = io.moeflink.engine.kernel.cuda.GpuDeviceSelector.select(
        gpuIndexes, configuredDevice, cudaVisibleDevices, subtask, cuda.deviceCount());
    org.slf4j.LoggerFactory.getLogger(Backends.class).info("Subtask {} uses CUDA device {} ({})", subtask, choice.ordinal(), choice.reason());
    return create("cuda", threads, choice.ordinal());
  }

  /** The default: {@code auto} with one thread per available processor. */
  public static KernelBackend defaultCpu() {
    return cpu("auto", Runtime.getRuntime().availableProcessors());
  }
}
