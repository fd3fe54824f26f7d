package io.moeflink.jobs;

import io.moeflink.engine.tokenizer.ReasoningSplit;
import io.moeflink.operators.GenerationOutput;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.FinishReason;
import io.moeflink.schemas.Timings;
import io.moeflink.schemas.Usage;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;

/** A finished request as the {@code Completion} contract. */
public final class ToCompletion implements MapFunction<GenerationOutput, Completion> {
  private static final long serialVersionUID = 1L;

  @Override
  public Completion map(GenerationOutput o) {
    List<Integer> tokens = new ArrayList<>(o.tokens().length);
    for (int t : o.tokens()) {
      tokens.add(t);
    }
    // A reasoning model's completion holds its thinking up to </think>: it goes to reasoning
    ReasoningSplit split = o.text() == null ? new ReasoningSplit(null, "") : ReasoningSplit.of(o.text(), false);
    return Completion.newBuilder()
        .setId(o.id())
        .setText(split.text())
        .setReasoning(split.reasoning())
        .setTokenIds(tokens)
        .setFinishReason(switch (o.finishReason()) {
          case GenerationOutput.STOP -> FinishReason.STOP;
          case GenerationOutput.LENGTH -> FinishReason.LENGTH;
          default -> FinishReason.ERROR;
        })
        .setError(o.error())
        .setUsage(new Usage(o.promptTokens(), o.tokens().length))
        .setTimings(new Timings(o.queuedMillis(), o.timeToFirstTokenMillis(), o.totalMillis()))
        .setModel(o.model())
        .setSeed(o.seed())
        .setMetadata(o.metadata())
        .build();
  }
}
