package io.moeflink.connectors;

/** How one request, completion or dead letter is written as the bytes of a Kafka value. */
public enum RecordFormat {
  /**
   * Avro single-object encoding: compact, typed, and self-describing by schema fingerprint, so a
   * job reads records written with older schemas. The default.
   */
  AVRO,
  /** One JSON object per value (our shape, or the OpenAI batch shape for requests), for scripts. */
  JSON
}
