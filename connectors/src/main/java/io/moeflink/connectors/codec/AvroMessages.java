package io.moeflink.connectors.codec;

import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SchemaHistory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificRecord;

/**
 * Our records in Avro single-object encoding: {@code C3 01}, the writer schema's 64-bit
 * fingerprint, then the binary datum. Kafka values carry no registry id, so every reader resolves
 * the writer by fingerprint among the schemas it knows: the current ones, {@link SchemaHistory}'s
 * and any given here. Safe to share between threads: Avro's message codecs keep their scratch
 * buffers per thread.
 */
public final class AvroMessages {

  /** The two marker bytes that open every single-object encoded message. */
  private static final byte[] MAGIC = {(byte) 0xC3, 0x01};

  /** Marker plus fingerprint. */
  private static final int HEADER_BYTES = MAGIC.length + Long.BYTES;

  /** Every schema known, by fingerprint, for the decoders. */
  private final SchemaStore.Cache store = new SchemaStore.Cache();

  /** Record full name by writer fingerprint, to decode a message of any of our types. */
  private final Map<Long, String> typeByFingerprint = new HashMap<>();

  private final BinaryMessageDecoder<InferenceRequest> requests;
  private final BinaryMessageDecoder<Completion> completions;
  private final BinaryMessageDecoder<DeadLetter> deadLetters;

  private AvroMessages(Collection<Schema> extraWriterSchemas) {
    List<Schema> known = new ArrayList<>();
    known.add(InferenceRequest.getClassSchema());
    known.add(Completion.getClassSchema());
    known.add(DeadLetter.getClassSchema());
    known.addAll(SchemaHistory.olderVersions());
    known.addAll(extraWriterSchemas);
    for (Schema schema : known) {
      store.addSchema(schema);
      typeByFingerprint.put(SchemaNormalization.parsingFingerprint64(schema), schema.getFullName());
    }
    requests = InferenceRequest.createDecoder(store);
    completions = Completion.createDecoder(store);
    deadLetters = DeadLetter.createDecoder(store);
  }

  /** Decoders for the current schemas and the schema history. */
  public static AvroMessages create() {
    return new AvroMessages(List.of());
  }

  /** Decoders that also resolve records written with {@code writerSchemas}. */
  public static AvroMessages withWriterSchemas(Collection<Schema> writerSchemas) {
    return new AvroMessages(writerSchemas);
  }

  /** Encodes one of our records; the result belongs to the caller. */
  public static byte[] encode(SpecificRecord record) {
    try {
      ByteBuffer buffer;
      if (record instanceof InferenceRequest request) {
        buffer = InferenceRequest.getEncoder().encode(request);
      } else if (record instanceof Completion completion) {
        buffer = Completion.getEncoder().encode(completion);
      } else if (record instanceof DeadLetter deadLetter) {
        buffer = DeadLetter.getEncoder().encode(deadLetter);
      } else {
        throw new IllegalArgumentException(
            "Not one of the moe-flink contracts: " + record.getSchema().getFullName());
      }
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot encode " + record.getSchema().getFullName(), e);
    }
  }

  /** True when {@code bytes} open like a single-object encoded message. */
  public static boolean isSingleObject(byte[] bytes) {
    return bytes != null
        && bytes.length >= HEADER_BYTES
        && bytes[0] == MAGIC[0]
        && bytes[1] == MAGIC[1];
  }

  /**
   * Decodes a request.
   *
   * @throws MissingSchemaException when the writer's fingerprint is unknown
   * @throws IOException or an unchecked Avro exception when the bytes are not a valid message
   */
  public InferenceRequest decodeRequest(byte[] bytes) throws IOException {
    guardSizes(bytes);
    return requests.decode(bytes);
  }

  /** Refuses sizes that the record cannot hold before Avro allocates them ({@link AvroSizeGuard}). */
  private void guardSizes(byte[] bytes) throws IOException {
    if (!isSingleObject(bytes)) {
      return; // the decoder itself says what is wrong with the header
    }
    long fingerprint = ByteBuffer.wrap(bytes, MAGIC.length, Long.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    Schema writer = store.findByFingerprint(fingerprint);
    if (writer != null) {
      AvroSizeGuard.check(writer, bytes, HEADER_BYTES);
    }
  }

  /** Decodes a message of any of our three types, told apart by the writer's fingerprint. */
  public SpecificRecord decode(byte[] bytes) throws IOException {
    if (!isSingleObject(bytes)) {
      throw new IOException("Not an Avro single-object encoded message");
    }
    long fingerprint = ByteBuffer.wrap(bytes, MAGIC.length, Long.BYTES)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    String type = typeByFingerprint.get(fingerprint);
    if (type == null) {
      throw new MissingSchemaException(
          "No schema known with fingerprint " + Long.toHexString(fingerprint));
    }
    guardSizes(bytes);
    if (type.equals(InferenceRequest.getClassSchema().getFullName())) {
      return requests.decode(bytes);
    } else if (type.equals(Completion.getClassSchema().getFullName())) {
      return completions.decode(bytes);
    }
    return deadLetters.decode(bytes);
  }
}
