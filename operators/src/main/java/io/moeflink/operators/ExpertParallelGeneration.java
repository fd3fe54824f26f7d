package io.moeflink.operators;

import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.model.PrefixCache;
import io.moeflink.operators.admission.AdmissionOrder;
import io.moeflink.operators.experts.ExpertShardOperatorFactory;
import io.moeflink.operators.generation.GenerationOperator;
import io.moeflink.operators.generation.GenerationOperatorFactory;
import io.moeflink.operators.loop.ExpertReply;
import io.moeflink.operators.loop.ExpertRequest;
import io.moeflink.operators.loop.FeedbackTailOperator;
import io.moeflink.operators.routing.PrefixKey;
import io.moeflink.operators.routing.PrefixRouter;
import io.moeflink.operators.routing.RequestRouting;
import org.apache.flink.api.common.functions.Partitioner;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Wires the expert-parallel model into a job:
 *
 * <pre>
 * tasks -> GenerationOperator[G] --(expert requests, by shard)--> ExpertShardOperator[S]
 *              ^                                                         |
 *              +-- in-JVM channel <-- FeedbackTail[G] <--(replies, by origin)--+
 * </pre>
 *
 * <p>Flink graphs have no cycles; the return edge is closed inside the JVM by a feedback tail
 * co-located with each generation subtask. Replies always go back to the subtask that sent the
 * request (this "origin" topology stays free of deadlock under aligned checkpoints). Loop edges
 * flush at once (buffer timeout 0): every MoE layer of every step crosses the network twice.
 *
 * <p>With {@link RequestRouting#PREFIX} and more than one generation subtask, tasks reach the
 * subtasks by the hash of their prompt's first prefix-cache block, with bounded loads ({@link
 * PrefixRouter}); otherwise they stay where they were admitted.
 *
 * <pre>{@code
 * DataStream<GenerationOutput> outputs = ExpertParallelGeneration.builder()
 *     .model(ModelSpec.builder().modelDir("/models/deepseek-v3").threads(8).expertShards(4).build())
 *     .generationParallelism(2)
 *     .limits(new SchedulerLimits(32, 512))
 *     .build()
 *     .apply(tasks);
 * }</pre>
 */
public final class ExpertParallelGeneration {
  private final ModelSpec model;
  private final int generationParallelism;
  private final SchedulerLimits limits;
  private final String loopId;
  private final AdmissionOrder order;
  private final long prefixCacheBytes;
  private final RequestRouting routing;

  private ExpertParallelGeneration(Builder b) {
    this.model = b.model;
    this.generationParallelism = b.generationParallelism;
    this.limits = b.limits;
    this.loopId = b.loopId;
    this.order = b.order;
    this.prefixCacheBytes = b.prefixCacheBytes;
    this.routing = b.routing;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Adds the loop to the job of {@code tasks}; returns the finished requests. */
  public DataStream<GenerationOutput> apply(DataStream<GenerationTask> tasks) {
    String group = "moe-loop-" + loopId;
    DataStream<GenerationTask> routed = routing == RequestRouting.PREFIX && generationParallelism > 1
        ? tasks.partitionCustom(new PrefixRouter(), new PrefixKey(PrefixCache.DEFAULT_BLOCK_TOKENS))
        : tasks;
    SingleOutputStreamOperator<GenerationOutput> generation = routed
        .transform("generation", GenerationOutput.TYPE,
            new GenerationOperatorFactory(model, limits, loopId, order, prefixCacheBytes))
        .uid("generation-" + loopId)
        .setParallelism(generationParallelism)
        .setBufferTimeout(0);
    generation.getTransformation().setCoLocationGroupKey(group);

    SingleOutputStreamOperator<ExpertReply> replies = generation.getSideOutput(GenerationOperator.EXPERT_REQUESTS)
        .partitionCustom(new ByIndex(), new RequestShard())
        .transform("expert-shard", ExpertReply.TYPE, new ExpertShardOperatorFactory(model))
        .uid("expert-shard-" + loopId)
        .setParallelism(model.expertShards())
        .setBufferTimeout(0);

    SingleOutputStreamOperator<Void> tail = replies
        .partitionCustom(new ByIndex(), new ReplyOrigin())
        .transform("feedback-tail", Types.VOID, new FeedbackTailOperator(loopId))
        .uid("feedback-tail-" + loopId)
        .setParallelism(generationParallelism);
    tail.getTransformation().setCoLocationGroupKey(group);
    return generation;
  }

  /** Routes an integer key to the subtask of that index. */
  static final class ByIndex implements Partitioner<Integer> {
    private static final long serialVersionUID = 1L;

    @Override
    public int partition(Integer key, int numPartitions) {
      if (key < 0 || key >= numPartitions) {
        throw new IllegalStateException("Loop message for subtask " + key + " of " + numPartitions);
      }
      return key;
    }
  }

  /** The shard a request is for. */
  static final class RequestShard implements KeySelector<ExpertRequest, Integer> {
    private static final long serialVersionUID = 1L;

    @Override
    public Integer getKey(ExpertRequest request) {
      return request.shard();
    }
  }

  /** The generation subtask a reply returns to. */
  static final class ReplyOrigin implements KeySelector<ExpertReply, Integer> {
    private static final long serialVersionUID = 1L;

    @Override
    public Integer getKey(ExpertReply reply) {
      return reply.origin();
    }
  }

  /** Builds the loop; validates once in {@link #build()}. */
  public static final class Builder {
    private ModelSpec model;
    private int generationParallelism = 1;
    private SchedulerLimits limits = SchedulerLimits.DEFAULT;
    private String loopId = "experts";
    private AdmissionOrder order = AdmissionOrder.DEFAULT;
    private long prefixCacheBytes;
    private RequestRouting routing = RequestRouting.FORWARD;

    public Builder model(ModelSpec model) {
      this.model = model;
      return this;
    }

    /** Generation subtasks (G). */
    public Builder generationParallelism(int parallelism) {
      this.generationParallelism = parallelism;
      return this;
    }

    /** Sequences in flight and token budget per step, per generation subtask. */
    public Builder limits(SchedulerLimits limits) {
      this.limits = limits;
      return this;
    }

    /** How waiting requests get sequence slots: priority, tenant weights, queue length. */
    public Builder admissionOrder(AdmissionOrder order) {
      this.order = order;
      return this;
    }

    /** The prefix cache's budget per generation subtask: 0 (the default) off, below 0 a tenth of the heap. */
    public Builder prefixCacheBytes(long bytes) {
      this.prefixCacheBytes = bytes;
      return this;
    }

    /** How tasks reach the generation subtasks (default {@link RequestRouting#FORWARD}). */
    public Builder routing(RequestRouting routing) {
      this.routing = routing;
      return this;
    }

    /** Distinguishes several loops in one job (default {@code experts}). */
    public Builder loopId(String loopId) {
      this.loopId = loopId;
      return this;
    }

    public ExpertParallelGeneration build() {
      if (model == null) {
        throw new IllegalArgumentException("No model is specified: call model(ModelSpec) with the checkpoint directory");
      }
      if (generationParallelism < 1) {
        throw new IllegalArgumentException("generationParallelism is " + generationParallelism + ", expected at least 1");
      }
      if (limits == null) {
        throw new IllegalArgumentException("limits must not be null");
      }
      if (order == null || routing == null) {
        throw new IllegalArgumentException("admissionOrder and routing must not be null");
      }
      return new ExpertParallelGeneration(this);
    }
  }
}
