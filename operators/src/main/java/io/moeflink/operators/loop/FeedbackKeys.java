package io.moeflink.operators.loop;

import org.apache.flink.api.common.functions.RuntimeContext;

/** Builds the {@link FeedbackKey} of a running subtask. */
public final class FeedbackKeys {
  private FeedbackKeys() {}

  public static FeedbackKey of(RuntimeContext context, String loopId) {
    return new FeedbackKey(
        context.getJobInfo().getJobId().toString(),
        loopId,
        context.getTaskInfo().getIndexOfThisSubtask(),
        context.getTaskInfo().getAttemptNumber());
  }
}
