package io.moeflink.operators;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.cuda.CudaAvailability;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.operators.gpu.GpuDeviceSelector;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.slf4j.LoggerFactory;

/**
 * Where the model is and how the operators run it; part of the job graph, so it is serializable
 * and small (a path, never weights). Build one with {@link #builder()}:
 *
 * <pre>{@code
 * ModelSpec spec = ModelSpec.builder().modelDir("/models/deepseek-v3").backend(BackendKind.AUTO)
 *     .threads(8).expertShards(4).build();
 * }</pre>
 *
 * @param modelDir the checkpoint directory, readable on every TaskManager
 * @param backend the kernel backend
 * @param threads kernel threads per operator instance
 * @param expertShards number of expert-shard subtasks (S)
 * @param placement an {@link ExpertPlacement#parse} spec, or null for the balanced default
 * @param cudaDevice a configured CUDA device ordinal, or -1 to let the GPU resources decide
 * @param mtp whether to load the MTP module and decode speculatively with it
 */
public record ModelSpec(
    String modelDir, BackendKind backend, int threads, int expertShards, String placement, int cudaDevice,
    boolean mtp) implements Serializable {

  public ModelSpec {
    if (modelDir == null || modelDir.isBlank()) {
      throw new IllegalArgumentException("No model directory given: set the path of a DeepSeek-V3 checkpoint");
    }
    if (backend == null) {
      throw new IllegalArgumentException("No backend given: choose one of " + BackendKind.names());
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads is " + threads + ", expected at least 1");
    }
    if (expertShards < 1) {
      throw new IllegalArgumentException("expertShards is " + expertShards + ", expected at least 1");
    }
    if (cudaDevice < -1) {
      throw new IllegalArgumentException("cudaDevice is " + cudaDevice + ", expected an ordinal >= 0 or -1 (none)");
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public Path path() {
    return Path.of(modelDir);
  }

  /**
   * The kernel backend of one subtask. For {@code CUDA}, on the GPU that Flink's external
   * resource framework assigned ({@code gpu}, property {@code index}), else the configured
   * device, else {@code CUDA_VISIBLE_DEVICES} and the subtask index ({@link GpuDeviceSelector});
   * without a usable CUDA device it fails with a message naming what is missing.
   */
  public KernelBackend createBackend(RuntimeContext context) {
    if (backend != BackendKind.CUDA) {
      return Backends.cpu(backend, threads);
    }
    CudaAvailability cuda = CudaAvailability.probe();
    if (!cuda.available()) {
      throw new IllegalStateException("Backend 'cuda' is configured but CUDA is unusable here: " + cuda.problem()
          + "; configure backend 'auto' to run on the CPU");
    }
    List<String> gpuIndexes = new ArrayList<>();
    for (ExternalResourceInfo gpu : context.getExternalResourceInfos("gpu")) {
      gpu.getProperty("index").ifPresent(gpuIndexes::add);
    }
    int subtask = context.getTaskInfo().getIndexOfThisSubtask();
    GpuDeviceSelector.Choice choice = GpuDeviceSelector.select(gpuIndexes,
        cudaDevice < 0 ? OptionalInt.empty() : OptionalInt.of(cudaDevice), System.getenv("CUDA_VISIBLE_DEVICES"),
        subtask, cuda.deviceCount());
    LoggerFactory.getLogger(ModelSpec.class).info("Subtask {} uses CUDA device {} ({})", subtask, choice.ordinal(),
        choice.reason());
    return Backends.create(BackendKind.CUDA, threads, choice.ordinal());
  }

  /** The expert placement every operator of the job derives identically from this spec. */
  public ExpertPlacement placement(ModelConfig config) {
    return placement == null || placement.isBlank()
        ? ExpertPlacement.balanced(config, expertShards)
        : ExpertPlacement.parse(config, expertShards, placement);
  }

  /** Reads {@code config.json}; an operator does this once, in {@code open()}. */
  public ModelConfig config() throws IOException {
    return ModelConfig.load(path());
  }

  /** Builds a {@link ModelSpec}; {@link #build()} validates. */
  public static final class Builder {
    private String modelDir;
    private BackendKind backend = BackendKind.AUTO;
    private int threads = 1;
    private int expertShards = 1;
    private String placement;
    private int cudaDevice = -1;
    private boolean mtp;

    public Builder modelDir(String dir) {
      this.modelDir = dir;
      return this;
    }

    public Builder modelDir(Path dir) {
      return modelDir(dir.toString());
    }

    public Builder backend(BackendKind kind) {
      this.backend = kind;
      return this;
    }

    /** Kernel threads per operator instance (default 1). */
    public Builder threads(int n) {
      this.threads = n;
      return this;
    }

    /** Expert-shard subtasks (default 1). */
    public Builder expertShards(int n) {
      this.expertShards = n;
      return this;
    }

    /** An {@link ExpertPlacement#parse} spec; null or blank for the balanced default. */
    public Builder placement(String spec) {
      this.placement = spec;
      return this;
    }

    /** The CUDA device to use where Flink assigns no GPU resource; -1 (default) for none. */
    public Builder cudaDevice(int ordinal) {
      this.cudaDevice = ordinal;
      return this;
    }

    /** Speculative decoding with the checkpoint's MTP module (default: off). */
    public Builder mtp(boolean on) {
      this.mtp = on;
      return this;
    }

    public ModelSpec build() {
      return new ModelSpec(modelDir, backend, threads, expertShards, placement, cudaDevice, mtp);
    }
  }
}
