package io.moeflink.jobs;

import io.moeflink.connectors.files.CompletionFileFormat;
import io.moeflink.schemas.InferenceRequest;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFilterFunction;

/**
 * Drops the requests whose completions an earlier run already committed to the output directory
 * ({@code corpus --resume}). The ids are read when the subtask opens, from the files themselves,
 * so the job graph stays small for any corpus; on a fresh run the filter passes everything and
 * reads nothing. It is in every corpus job, so a resumed run has the graph of the run it resumes.
 */
final class SkipCommitted extends RichFilterFunction<InferenceRequest> {
  private static final long serialVersionUID = 1L;

  private final boolean resume;
  private final String output;
  private final String deadLetters;
  private final CompletionFileFormat format;
  private transient Set<String> committed;

  SkipCommitted(boolean resume, String output, String deadLetters, CompletionFileFormat format) {
    this.resume = resume;
    this.output = output;
    this.deadLetters = deadLetters;
    this.format = format;
  }

  @Override
  public void open(OpenContext context) throws Exception {
    committed = resume ? CorpusOutput.inspect(output, deadLetters, format).committedIds() : Set.of();
  }

  @Override
  public boolean filter(InferenceRequest request) {
    return !committed.contains(request.getId());
  }
}
