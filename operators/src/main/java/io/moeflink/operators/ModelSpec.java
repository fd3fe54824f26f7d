package io.moeflink.operators;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.ExpertPlacement;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * Where the model is and how the operators run it; part of the job graph, so it is serializable
 * and small (a path, never weights).
 *
 * @param modelDir the checkpoint directory, readable on every TaskManager
 * @param backend kernel backend name ({@code auto}, {@code vector}, {@code scalar})
 * @param threads kernel threads per operator instance
 * @param expertShards number of expert-shard subtasks (S)
 * @param placement an {@link ExpertPlacement#parse} spec, or null for the balanced default
 */
public record ModelSpec(String modelDir, String backend, int threads, int expertShards, String placement)
    implements Serializable {

  public ModelSpec {
    if (modelDir == null || modelDir.isBlank()) {
      throw new IllegalArgumentException("No model directory given: set the path of a DeepSeek-V3 checkpoint");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads is " + threads + ", expected at least 1");
    }
    if (expertShards < 1) {
      throw new IllegalArgumentException("expertShards is " + expertShards + ", expected at least 1");
    }
  }

  public Path path() {
    return Path.of(modelDir);
  }

  /**
   * The kernel backend of one subtask: for {@code cuda}, on the GPU that Flink's external resource
   * framework assigned ({@code gpu}, property {@code index}); a MiniCluster assigns none, so then
   * {@code CUDA_VISIBLE_DEVICES} and the subtask index decide.
   */
  public KernelBackend createBackend(org.apache.flink.api.common.functions.RuntimeContext context) {
    java.util.List<String> gpuIndexes = new java.util.ArrayList<>();
    if ("cuda".equalsIgnoreCase(backend)) {
      for (org.apache.flink.api.common.externalresource.ExternalResourceInfo gpu : context.getExternalResourceInfos("gpu")) {
        gpu.getProperty("index").ifPresent(gpuIndexes::add);
      }
    }
    return Backends.forSubtask(backend, threads, gpuIndexes, java.util.OptionalInt.empty(),
        System.getenv("CUDA_VISIBLE_DEVICES"), context.getTaskInfo().getIndexOfThisSubtask());
  }

  /** The expert placement every operator of the job derives identically from this spec. */
  public ExpertPlacement placement(ModelConfig config) {
    return placement == null || placement.isBlank()
        ? ExpertPlacement.balanced(config, expertShards)
        : ExpertPlacement.parse(config, expertShards, placement);
  }

  public ModelConfig config() throws IOException {
    return ModelConfig.load(path());
  }
}
