package io.moeflink.connectors;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.codec.InvalidRecordException;
import io.moeflink.connectors.codec.RequestJson;
import io.moeflink.connectors.codec.RequestValidator;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.FilePosition;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.KafkaPosition;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.MissingSchemaException;

/**
 * Turns each {@link RawRecord} into exactly one {@link Decoded}: a validated request or a dead
 * letter with a reason code and the original bytes. It never throws, so one bad record cannot
 * fail (and endlessly restart) a job.
 *
 * <pre>{@code
 * RequestDecoder decoder = RequestDecoder.builder().format(RecordFormat.JSON).build();
 * }</pre>
 */
public final class RequestDecoder implements Serializable {

  private static final long serialVersionUID = 1L;

  /**
   * Records larger than this are OVERSIZED by default. Kept below Kafka's default message limit
   * (1 MB), so that a dead letter carrying the original bytes can itself be published.
   */
  public static final int DEFAULT_MAX_RECORD_BYTES = 512 * 1024;

  /** How the bytes encode a request. */
  private final RecordFormat format;

  /** Larger records become OVERSIZED dead letters holding their first this many bytes. */
  private final int maxRecordBytes;

  /** Extra Avro writer schemas (JSON text, since Avro schemas are not serializable). */
  private final List<String> writerSchemas;

  /** Built on first use in each task, from {@link #writerSchemas}. */
  private transient AvroMessages avro;

  private RequestDecoder(Builder builder) {
    this.format = builder.format;
    this.maxRecordBytes = builder.maxRecordBytes;
    this.writerSchemas = List.copyOf(builder.writerSchemas);
  }

  public static Builder builder() {
    return new Builder();
  }

  public RecordFormat format() {
    return format;
  }

  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  /** One record in, one result out; never throws. */
  public Decoded decode(RawRecord record) {
    try {
      InferenceRequest request = read(record);
      RequestValidator.validate(request);
      return new Decoded.Request(request);
    } catch (InvalidRecordException e) {
      return reject(record, e.reason(), e.getMessage(), e.requestId());
    } catch (RuntimeException e) {
      return reject(record, DeadLetterReason.OTHER, "Unexpected failure while decoding: " + e, null);
    }
  }

  private InferenceRequest read(RawRecord record) throws InvalidRecordException {
    if (record.readError() != null) {
      throw new InvalidRecordException(DeadLetterReason.UNDECODABLE, record.readError());
    }
    if (record.size() > maxRecordBytes) {
      throw new InvalidRecordException(
          DeadLetterReason.OVERSIZED,
          "The record has " + record.size() + " bytes, more than the limit of " + maxRecordBytes
              + " (RequestDecoder.Builder#maxRecordBytes)");
    }
    if (format == RecordFormat.JSON) {
      return RequestJson.parse(record.bytes());
    }
    return readAvro(record.bytes());
  }

  private InferenceRequest readAvro(byte[] bytes) throws InvalidRecordException {
    if (bytes.length == 0) {
      throw new InvalidRecordException(
          DeadLetterReason.UNDECODABLE, "The record is empty (a Kafka tombstone?)");
    }
    try {
      return avro().decodeRequest(bytes);
    } catch (MissingSchemaException e) {
      throw new InvalidRecordException(
          DeadLetterReason.UNKNOWN_SCHEMA,
          "Written with an Avro schema this job does not know (" + e.getMessage() + "); add the"
              + " writer's schema to the schema history",
          e);
    } catch (BadHeaderException e) {
      throw new InvalidRecordException(
          DeadLetterReason.UNDECODABLE,
          "Not Avro single-object encoded (it must start with C3 01 and a schema fingerprint);"
              + " publish with --format json for JSON",
          e);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException
        | NegativeArraySizeException | UnsupportedOperationException e) {
      // UnsupportedOperationException: Avro's "Cannot read strings longer than ..." limit.
      throw new InvalidRecordException(
          DeadLetterReason.UNDECODABLE, "Cannot decode the Avro request: " + e, e);
    }
  }

  private AvroMessages avro() {
    if (avro == null) {
      List<Schema> schemas = new ArrayList<>();
      for (String schema : writerSchemas) {
        schemas.add(new Schema.Parser().parse(schema));
      }
      avro = AvroMessages.withWriterSchemas(schemas);
    }
    return avro;
  }

  private Decoded reject(
      RawRecord record, DeadLetterReason reason, String message, String requestId) {
    byte[] original =
        record.bytes().length > maxRecordBytes
            ? Arrays.copyOf(record.bytes(), maxRecordBytes)
            : record.bytes();
    Object source =
        record.topic() != null
            ? new KafkaPosition(record.topic(), record.partition(), record.offset())
            : new FilePosition(record.file(), record.line());
    return new Decoded.Rejected(
        DeadLetter.newBuilder()
            .setSource(source)
            .setRequestId(requestId)
            .setOriginal(ByteBuffer.wrap(original))
            .setOriginalSize(record.size())
            .setReason(reason)
            .setMessage(message != null ? message : reason.name())
            .setTimestamp(Instant.now())
            .build());
  }

  /** Configures a {@link RequestDecoder}; {@link #build()} checks the settings. */
  public static final class Builder {
    private RecordFormat format = RecordFormat.AVRO;
    private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;
    private final List<String> writerSchemas = new ArrayList<>();

    private Builder() {}

    /** How records are encoded; AVRO by default. */
    public Builder format(RecordFormat format) {
      this.format = format;
      return this;
    }

    /** Records larger than this become OVERSIZED dead letters; 512 KiB by default. */
    public Builder maxRecordBytes(int maxRecordBytes) {
      this.maxRecordBytes = maxRecordBytes;
      return this;
    }

    /** Older Avro writer schemas to resolve, beyond the schema history shipped with the job. */
    public Builder writerSchemas(Schema... schemas) {
      for (Schema schema : schemas) {
        writerSchemas.add(schema.toString());
      }
      return this;
    }

    public RequestDecoder build() {
      if (format == null) {
        throw new IllegalArgumentException("No record format set; use RecordFormat.AVRO or JSON");
      }
      if (maxRecordBytes <= 0) {
        throw new IllegalArgumentException(
            "maxRecordBytes must be > 0, got " + maxRecordBytes + "; the default is "
                + DEFAULT_MAX_RECORD_BYTES);
      }
      return new RequestDecoder(this);
    }
  }
}
