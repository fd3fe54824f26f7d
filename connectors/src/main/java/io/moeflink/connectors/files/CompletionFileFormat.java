package io.moeflink.connectors.files;

/** How completions are written to part files. */
public enum CompletionFileFormat {
  /** Our completion JSON, one per line. */
  JSONL,
  /** Lines of the OpenAI batch output format. */
  OPENAI_BATCH,
  /** Avro container files of Completion. */
  AVRO
}
