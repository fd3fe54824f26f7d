package io.moeflink.jobs;

import io.moeflink.connectors.Contracts;
import io.moeflink.connectors.DecodedRequests;
import io.moeflink.connectors.RawRecord;
import io.moeflink.connectors.RequestDecoder;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.generate.Speculation;
import io.moeflink.operators.ExpertParallelGeneration;
import io.moeflink.operators.GenerationOutput;
import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.ModelSpec;
import io.moeflink.operators.admission.Admission;
import io.moeflink.operators.admission.AdmissionOrder;
import io.moeflink.operators.admission.AdmissionPolicy;
import io.moeflink.operators.routing.RequestRouting;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.InferenceRequest;
import java.util.function.UnaryOperator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The pipeline both jobs share: decode (bad records become dead letters) -> admission (requests
 * that cannot be served become error completions) -> expert-parallel generation -> completions.
 * The jobs only choose sources and sinks.
 */
public final class InferencePipeline {
  private InferencePipeline() {}

  /** What the pipeline hands to the sinks: every input record is in exactly one of them. */
  public record Outputs(DataStream<Completion> completions, DataStream<DeadLetter> deadLetters) {}

  public static Outputs build(DataStream<RawRecord> raw, RequestDecoder decoder, GenerationOptions g) {
    return build(raw, decoder, g, UnaryOperator.identity());
  }

  /** As {@link #build(DataStream, RequestDecoder, GenerationOptions)}, with a step between decoding and admission. */
  public static Outputs build(DataStream<RawRecord> raw, RequestDecoder decoder, GenerationOptions g,
      UnaryOperator<DataStream<InferenceRequest>> beforeAdmission) {
    return build(raw, decoder, g, beforeAdmission, RequestRouting.PREFIX);
  }

  /**
   * As {@link #build(DataStream, RequestDecoder, GenerationOptions, UnaryOperator)}; {@code
   * defaultRouting} applies where {@code --routing} is not given.
   */
  public static Outputs build(DataStream<RawRecord> raw, RequestDecoder decoder, GenerationOptions g,
      UnaryOperator<DataStream<InferenceRequest>> beforeAdmission, RequestRouting defaultRouting) {
    DecodedRequests decoded = DecodedRequests.decode(raw, decoder);
    SingleOutputStreamOperator<GenerationTask> tasks = beforeAdmission.apply(decoded.requests())
        .process(new Admission(g.model, new AdmissionPolicy(g.modelName, g.maxPromptTokens, g.defaultMaxTokens)), GenerationTask.TYPE)
        .name("admission")
        .uid("admission");
    DataStream<GenerationOutput> generated = ExpertParallelGeneration.builder()
        .model(ModelSpec.builder().modelDir(g.model).backend(g.backend).threads(g.threads).expertShards(g.expertShards)
            .placement(g.placement).cudaDevice(g.cudaDevice).mtp(g.speculative == Speculation.MTP).build())
        .generationParallelism(g.parallelism)
        .limits(new SchedulerLimits(g.maxSequences, g.tokenBudget))
        .admissionOrder(new AdmissionOrder(g.maxWaiting, g.tenantWeights))
        .prefixCacheBytes(g.prefixCacheBytes())
        .routing(g.routing != null ? g.routing : defaultRouting)
        .build()
        .apply(tasks);
    DataStream<Completion> completions = generated.union(tasks.getSideOutput(Admission.REJECTED))
        .map(new ToCompletion(), Contracts.completions())
        .name("completions")
        .uid("completions");
    return new Outputs(completions, decoded.deadLetters());
  }

  /**
   * Job configuration from the options: aligned exactly-once checkpoints (Flink refuses unaligned
   * ones with the loop's custom partitioners), retained on cancellation so that a crashed run can
   * resume.
   *
   * <p>No restart strategy: the cluster's {@code restart-strategy.type} applies when it sets one,
   * and otherwise Flink's default for checkpointed jobs, exponential delay (1 s, x1.5 per attempt up
   * to 1 min, reset after an hour without failures, unlimited attempts). A lost TaskManager costs
   * a few attempts (until the JobManager notices the loss and a replacement registers) and never
   * exhausts it. A fixed number of attempts did: it ran out in about the time the JobManager takes
   * to declare a TaskManager dead.
   */
  public static Configuration configuration(GenerationOptions g) {
    Configuration c = new Configuration();
    c.setString("execution.checkpointing.interval", g.checkpointIntervalMillis + " ms");
    c.setString("execution.checkpointing.mode", "EXACTLY_ONCE");
    c.setString("execution.checkpointing.unaligned.enabled", "false");
    c.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
    if (g.checkpointDir != null) {
      c.setString("execution.checkpointing.storage", "filesystem");
      c.setString("execution.checkpointing.dir", asUri(g.checkpointDir));
    }
    c.setString("parallelism.default", String.valueOf(g.parallelism));
    return c;
  }

  /** A plain path becomes a {@code file://} URI; URIs (s3://, hdfs://, file://) stay as they are. */
  public static String asUri(String location) {
    return location.contains("://") ? location : java.nio.file.Path.of(location).toAbsolutePath().toUri().toString();
  }
}
