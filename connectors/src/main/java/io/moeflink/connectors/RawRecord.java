package io.moeflink.connectors;

/**
 * One input record before decoding: its bytes and where it was read. Sources emit these and never
 * decode, so a bad record cannot fail the source; {@link RequestDecoder} turns each into a request
 * or a dead letter.
 *
 * <p>A Flink POJO (records are supported by Flink's POJO serializer), so it travels without Kryo.
 *
 * @param topic Kafka topic, or null for a file
 * @param partition Kafka partition, or -1 for a file
 * @param offset Kafka offset, or -1 for a file
 * @param file file path, or null for Kafka
 * @param line 1-based line (JSONL) or record number (Avro file), or -1 for Kafka
 * @param bytes the record's bytes; for an oversized file line only its first bytes
 * @param size the record's full size in bytes
 * @param readError why the source could not read this record (e.g. a corrupt Avro file block), or
 *     null; such a record becomes an UNDECODABLE dead letter
 */
public record RawRecord(
    String topic,
    int partition,
    long offset,
    String file,
    long line,
    byte[] bytes,
    long size,
    String readError) {

  public static RawRecord fromKafka(String topic, int partition, long offset, byte[] bytes) {
    byte[] value = bytes != null ? bytes : new byte[0];
    return new RawRecord(topic, partition, offset, null, -1, value, value.length, null);
  }

  public static RawRecord fromFile(String file, long line, byte[] bytes, long size) {
    return new RawRecord(null, -1, -1, file, line, bytes, size, null);
  }

  /** A record of a file that could not be read past {@code line}. */
  public static RawRecord unreadable(String file, long line, byte[] bytes, String error) {
    return new RawRecord(null, -1, -1, file, line, bytes, bytes.length, error);
  }

  /** Where the record came from, for logs and messages. */
  public String position() {
    return topic != null ? topic + "-" + partition + "@" + offset : file + ":" + line;
  }
}
