package io.moeflink.jobs;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of the streaming job ({@code moe-flink run}, and {@code flink run -c io.moeflink.jobs.StreamingJob}). */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Streaming job: Kafka requests -> expert-parallel generation -> Kafka completions (exactly once) + dead letters.")
public class StreamingJobOptions {

  /** {@code --bootstrap} and {@code --kafka-properties}: the brokers and the client settings. */
  @Mixin public KafkaClientOptions kafka = new KafkaClientOptions();

  @Option(names = "--requests", required = true, description = "Topic of InferenceRequest records.")
  public String requests;

  @Option(names = "--completions", required = true, description = "Topic the completions go to (transactional, exactly once).")
  public String completions;

  @Option(names = "--dead-letters", required = true, description = "Topic for records that cannot be served.")
  public String deadLetters;

  @Option(names = "--group-id", defaultValue = "moe-flink", description = "Kafka consumer group (default ${DEFAULT-VALUE}).")
  public String groupId;

  @Option(names = "--transactional-id-prefix", description = "Prefix of the sink's transactional ids; unique per job (default: derived from the topics).")
  public String transactionalIdPrefix;

  @Option(names = "--request-format", defaultValue = "avro", description = "Value encoding of requests: avro or json (default ${DEFAULT-VALUE}).")
  public String requestFormat;

  @Option(names = "--bounded", description = "Stop at the offsets that are latest at start (backfills, tests) instead of running forever.")
  public boolean bounded;

  @Mixin public GenerationOptions generation = new GenerationOptions();
}
