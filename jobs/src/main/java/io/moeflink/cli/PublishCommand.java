package io.moeflink.cli;

import io.moeflink.connectors.RecordFormat;
import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.codec.InvalidRecordException;
import io.moeflink.connectors.codec.RequestJson;
import io.moeflink.jobs.KafkaClientOptions;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.jobs.JobPreflight;
import io.moeflink.jobs.UsageException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Arrays;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink publish}: sends a JSONL file of requests (ours or OpenAI batch input) to a
 * topic, keyed by request id so that a request's results stay in order on one partition.
 *
 * <p>With {@code --format avro} each line is converted to Avro single-object encoding; a line that
 * cannot be read as a request at all is skipped and reported (values such as a negative
 * temperature are left for the job to reject, so its dead letters can be tried by hand). With
 * {@code --format json} lines are sent exactly as they are, byte for byte, bad ones included (invalid
 * JSON or invalid UTF-8 too: rejecting them, as dead letters, is the job's part).
 */
@Command(
    name = "publish",
    mixinStandardHelpOptions = true,
    description = "Publish requests from a JSONL file to a Kafka topic, keyed by request id.")
final class PublishCommand implements Callable<Integer> {

  /** Skipped lines reported one by one before only counting them. */
  private static final int REPORTED_SKIPS = 10;

  @Spec CommandSpec spec;

  /** {@code --bootstrap} and {@code --kafka-properties}, as the streaming job takes them. */
  @Mixin KafkaClientOptions kafka = new KafkaClientOptions();

  @Option(names = "--topic", required = true, description = "Topic to publish to.")
  String topic;

  @Option(names = "--input", required = true, paramLabel = "FILE.jsonl", description = "Requests, one JSON object per line.")
  Path input;

  @Option(
      names = "--format",
      defaultValue = "avro",
      description = "Value encoding: avro (single-object, default) or json (lines as they are).")
  String format;

  @Override
  public Integer call() throws IOException, InterruptedException {
    RecordFormat encoding = JobPreflight.recordFormat("--format", format);
    if (!Files.isRegularFile(input)) {
      throw new UsageException("--input " + input + ": no such file; give a JSONL file of requests, one JSON object per line");
    }
    KafkaClients.resolve(kafka, spec);
    PrintWriter err = spec.commandLine().getErr();
    long total = countRecords();
    long started = System.nanoTime();
    AtomicLong sent = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicReference<Exception> firstFailure = new AtomicReference<>();
    long skipped = 0;
    try (KafkaProducer<byte[], byte[]> producer = producer();
        InputStream lines = new BufferedInputStream(Files.newInputStream(input));
        ProgressBar progress = new ProgressBarBuilder().setTaskName("publish " + topic)
            .setInitialMax(total).setUnit(" records", 1).showSpeed().build()) {
      long lineNumber = 0;
      for (byte[] bytes = readLine(lines); bytes != null; bytes = readLine(lines)) {
        lineNumber++;
        if (isBlank(bytes)) {
          continue;
        }
        String key;
        byte[] value;
        try {
          InferenceRequest request = RequestJson.parse(bytes);
          key = request.getId();
          value = encoding == RecordFormat.AVRO ? AvroMessages.encode(request) : bytes;
        } catch (InvalidRecordException e) {
          if (encoding == RecordFormat.AVRO) {
            if (++skipped <= REPORTED_SKIPS) {
              err.printf("%n%s:%d skipped, %s: %s%n", input, lineNumber, e.reason(), e.getMessage());
              err.flush();
            }
            progress.step();
            continue;
          }
          key = e.requestId();
          value = bytes;
        }
        producer.send(
            new ProducerRecord<>(topic, key != null ? key.getBytes(StandardCharsets.UTF_8) : null, value),
            (metadata, error) -> {
              if (error != null) {
                failed.incrementAndGet();
                firstFailure.compareAndSet(null, error);
              } else {
                sent.incrementAndGet();
              }
              progress.step();
            });
      }
      producer.flush();
    }
    double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
    System.out.printf(
        "Published %d records to %s (%s) in %.1f s, %.0f records/s; %d lines skipped, %d failed%n",
        sent.get(), topic, encoding.name().toLowerCase(Locale.ROOT), seconds, sent.get() / seconds,
        skipped, failed.get());
    if (firstFailure.get() != null) {
      System.err.println("First failure: " + firstFailure.get());
      return 1;
    }
    return 0;
  }

  private long countRecords() throws IOException {
    long count = 0;
    try (InputStream lines = new BufferedInputStream(Files.newInputStream(input))) {
      for (byte[] line = readLine(lines); line != null; line = readLine(lines)) {
        count += isBlank(line) ? 0 : 1;
      }
    }
    return count;
  }

  /** The next line's bytes without its {@code \n} (or {@code \r\n}), or null at the end. */
  static byte[] readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    int b = in.read();
    if (b < 0) {
      return null;
    }
    while (b >= 0 && b != '\n') {
      line.write(b);
      b = in.read();
    }
    byte[] bytes = line.toByteArray();
    return bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? Arrays.copyOf(bytes, bytes.length - 1) : bytes;
  }

  private static boolean isBlank(byte[] line) {
    for (byte b : line) {
      if (b != ' ' && b != '\t' && b != '\r' && b != '\f') {
        return false;
      }
    }
    return true;
  }

  private KafkaProducer<byte[], byte[]> producer() throws IOException {
    Properties props = KafkaClients.resolve(kafka, spec).clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }
}
