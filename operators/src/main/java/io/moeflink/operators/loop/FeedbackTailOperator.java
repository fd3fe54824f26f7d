package io.moeflink.operators.loop;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The end of the expert loop's network edge: receives replies for generation subtask {@code i}
 * and hands them to it through the in-JVM {@link FeedbackChannel}. It must be co-located with
 * that subtask (same slot), which the builder arranges.
 */
public final class FeedbackTailOperator extends AbstractStreamOperator<Void>
    implements OneInputStreamOperator<ExpertReply, Void> {
  private static final long serialVersionUID = 1L;

  private final String loopId;
  private transient FeedbackChannel<ExpertReply> channel;

  public FeedbackTailOperator(String loopId) {
    this.loopId = loopId;
  }

  @Override
  public void open() throws Exception {
    super.open();
    channel = FeedbackChannel.of(FeedbackKeys.of(getRuntimeContext(), loopId));
  }

  @Override
  public void processElement(StreamRecord<ExpertReply> element) {
    channel.put(element.getValue());
  }
}
