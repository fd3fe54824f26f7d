package io.moeflink.jobs;

import io.moeflink.engine.generate.Speculation;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.operators.admission.TenantWeights;
import io.moeflink.operators.routing.RequestRouting;
import picocli.CommandLine.Option;

/** Model and generation settings shared by the streaming and the corpus job (a picocli mixin). */
public final class GenerationOptions {

  @Option(names = "--model", required = true, description = "DeepSeek-V3 checkpoint directory (Hugging Face layout), readable on every TaskManager.")
  public String model;

  @Option(names = "--model-name", description = "Model name requests must ask for (others get an error completion) and completions report. Default: any requested name is served; completions report the directory name.")
  public String modelName;

  @Option(names = "--parallelism", defaultValue = "1", description = "Generation subtasks G (default ${DEFAULT-VALUE}).")
  public int parallelism;

  @Option(names = "--expert-shards", defaultValue = "1", description = "Expert-shard subtasks S (default ${DEFAULT-VALUE}).")
  public int expertShards;

  @Option(names = "--placement", description = "Expert placement: one shard id per expert (\"0,0,1,1,...\") or per layer (\"3:0,1,...;4:...\"). Default: balanced contiguous runs.")
  public String placement;

  @Option(names = "--max-sequences", defaultValue = "16", description = "Sequences in flight per generation subtask (default ${DEFAULT-VALUE}).")
  public int maxSequences;

  @Option(names = "--token-budget", defaultValue = "256", description = "Token rows per forward pass (default ${DEFAULT-VALUE}).")
  public int tokenBudget;

  @Option(names = "--backend", defaultValue = "auto", converter = BackendKindConverter.class,
      description = "Kernel backend: auto, vector, scalar or cuda (default ${DEFAULT-VALUE}).")
  public BackendKind backend;

  @Option(names = "--cuda-device", defaultValue = "-1", description = "CUDA device for --backend cuda where Flink assigns no GPU resource (default: CUDA_VISIBLE_DEVICES and the subtask index).")
  public int cudaDevice;

  @Option(names = "--speculative", defaultValue = "none", converter = SpeculationConverter.class,
      description = "Speculative decoding: none, or mtp to draft with the checkpoint's MTP module (the tokens stay those of plain decoding). Default: ${DEFAULT-VALUE}.")
  public Speculation speculative;

  @Option(names = "--threads", defaultValue = "1", description = "Kernel threads per operator instance (default ${DEFAULT-VALUE}).")
  public int threads;

  @Option(names = "--checkpoint-dir", description = "Checkpoint storage (file:///... or s3://...). Without it, checkpoints stay in memory.")
  public String checkpointDir;

  @Option(names = "--checkpoint-interval", defaultValue = "10000", description = "Milliseconds between checkpoints (default ${DEFAULT-VALUE}); completions are committed on checkpoints.")
  public long checkpointIntervalMillis;

  @Option(names = "--max-prompt-tokens", defaultValue = "0", description = "Reject longer prompts (default 0: the model's context).")
  public int maxPromptTokens;

  @Option(names = "--default-max-tokens", defaultValue = "256", description = "max_tokens of requests that give none (default ${DEFAULT-VALUE}).")
  public int defaultMaxTokens;

  @Option(names = "--prefix-cache-mib", defaultValue = "-1", description = "Prefix cache per generation subtask, in MiB: latent-KV blocks of shared prompt prefixes, reused bit for bit. 0 turns it off; default: a tenth of the heap. Off with --speculative mtp.")
  public long prefixCacheMib = -1;

  @Option(names = "--routing", converter = RoutingConverter.class, description = "How requests reach the generation subtasks: prefix (by the hash of the prompt's first block, bounded loads, so prefix caches hit) or forward (where admitted). Default: prefix for the streaming job, forward for the corpus job (which keeps its reader chained to generation).")
  public RequestRouting routing;

  @Option(names = "--tenant-weights", defaultValue = "", converter = TenantWeightsConverter.class, description = "Shares of the sequence slots between the tenants of waiting requests, e.g. a=3,b=1; unnamed tenants weigh 1. Default: equal.")
  public TenantWeights tenantWeights = TenantWeights.EQUAL;

  @Option(names = "--max-waiting", defaultValue = "256", description = "Requests a generation subtask holds waiting for a slot, ordered by priority and tenant (default ${DEFAULT-VALUE}; 1 in a corpus job with --routing forward, whose reader must stay open for its checkpoints); beyond, it back-pressures.")
  public int maxWaiting = 256;

  /** The prefix cache's budget in bytes: 0 off, below 0 a tenth of the heap (decided on the TaskManager). */
  public long prefixCacheBytes() {
    return prefixCacheMib < 0 ? -1 : Math.multiplyExact(prefixCacheMib, 1L << 20);
  }
}
