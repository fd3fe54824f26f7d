package io.moeflink.connectors.files;

/** How a corpus file holds its requests. */
public enum CorpusFormat {
  /** JSON lines: our request JSON or OpenAI batch input, told apart per line. */
  JSONL,
  /** Avro container files of InferenceRequest, any schema version. */
  AVRO
}
