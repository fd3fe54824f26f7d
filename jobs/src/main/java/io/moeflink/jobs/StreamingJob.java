package io.moeflink.jobs;

import io.moeflink.connectors.RawRecord;
import io.moeflink.connectors.RecordFormat;
import io.moeflink.connectors.RequestDecoder;
import io.moeflink.connectors.kafka.KafkaConnectors;
import io.moeflink.connectors.kafka.RequestSourceBuilder;
import io.moeflink.connectors.kafka.ResultSinkBuilder;
import io.moeflink.jobs.KafkaClientOptions.KafkaClientSettings;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import java.io.IOException;
import java.util.Locale;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The streaming job: Kafka requests -> the inference pipeline -> Kafka completions (exactly once,
 * keyed by request id) and dead letters. Submit it with {@code flink run -c
 * io.moeflink.jobs.StreamingJob jobs/target/moe-flink-job.jar --kafka-properties ... --model ...}, or run
 * it locally with {@code bin/moe-flink run}.
 */
public final class StreamingJob {
  private StreamingJob() {}

  public static void main(String[] args) throws Exception {
    StreamingJobOptions options = new StreamingJobOptions();
    if (!JobArguments.parse(options, args)) {
      return;
    }
    StreamExecutionEnvironment env = JobArguments.environment(options.generation);
    build(env, options, UnaryOperator.identity());
    env.execute("moe-flink streaming " + options.requests + " -> " + options.completions);
  }

  /**
   * Adds the job to {@code env}. {@code beforeSink} sees the completions just before the sink
   * (tests inject failures there).
   *
   * @throws IllegalArgumentException when the options name no Kafka brokers (see {@link
   *     KafkaClientOptions#resolve()})
   */
  public static void build(StreamExecutionEnvironment env, StreamingJobOptions o, UnaryOperator<DataStream<Completion>> beforeSink)
      throws IOException {
    KafkaClientSettings client = o.kafka.resolve();
    String brokers = client.bootstrapServers();
    Properties kafka = client.properties();
    RequestSourceBuilder source = KafkaConnectors.requestSource()
        .bootstrapServers(brokers).topics(o.requests).groupId(o.groupId);
    kafka.forEach((k, v) -> source.property(k.toString(), v.toString()));
    if (o.bounded) {
      source.bounded();
    }
    DataStream<RawRecord> raw = env.fromSource(source.build(), WatermarkStrategy.noWatermarks(), "requests: " + o.requests)
        .uid("kafka-requests");
    RequestDecoder decoder = RequestDecoder.builder()
        .format(RecordFormat.valueOf(o.requestFormat.toUpperCase(Locale.ROOT))).build();
    InferencePipeline.Outputs out = InferencePipeline.build(raw, decoder, o.generation);

    String prefix = o.transactionalIdPrefix != null ? o.transactionalIdPrefix : "moe-flink-" + o.requests + "-" + o.completions;
    ResultSinkBuilder<Completion> completions = KafkaConnectors.completionSink()
        .bootstrapServers(brokers).topic(o.completions).transactionalIdPrefix(prefix + "-completions");
    kafka.forEach((k, v) -> completions.property(k.toString(), v.toString()));
    beforeSink.apply(out.completions()).sinkTo(completions.build()).name("completions: " + o.completions).uid("kafka-completions");

    ResultSinkBuilder<DeadLetter> deadLetters = KafkaConnectors.deadLetterSink()
        .bootstrapServers(brokers).topic(o.deadLetters).transactionalIdPrefix(prefix + "-dead-letters");
    kafka.forEach((k, v) -> deadLetters.property(k.toString(), v.toString()));
    out.deadLetters().sinkTo(deadLetters.build()).name("dead letters: " + o.deadLetters).uid("kafka-dead-letters");
  }
}
