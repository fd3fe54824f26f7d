package io.moeflink.operators.experts;

import io.moeflink.operators.ModelSpec;
import io.moeflink.operators.loop.ExpertReply;
import io.moeflink.operators.loop.ExpertRequest;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/** Creates {@link ExpertShardOperator}s with their task's mailbox. */
public final class ExpertShardOperatorFactory extends AbstractStreamOperatorFactory<ExpertReply>
    implements OneInputStreamOperatorFactory<ExpertRequest, ExpertReply> {
  private static final long serialVersionUID = 1L;

  private final ModelSpec spec;

  public ExpertShardOperatorFactory(ModelSpec spec) {
    this.spec = spec;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends StreamOperator<ExpertReply>> T createStreamOperator(StreamOperatorParameters<ExpertReply> parameters) {
    return (T) new ExpertShardOperator(parameters, spec, parameters.getMailboxExecutor());
  }

  @Override
  public Class<? extends StreamOperator<?>> getStreamOperatorClass(ClassLoader classLoader) {
    return ExpertShardOperator.class;
  }
}
