package io.moeflink.operators.generation;

import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.operators.GenerationOutput;
import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.ModelSpec;
import io.moeflink.operators.admission.AdmissionOrder;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/** Creates {@link GenerationOperator}s with their task's mailbox. */
public final class GenerationOperatorFactory extends AbstractStreamOperatorFactory<GenerationOutput>
    implements OneInputStreamOperatorFactory<GenerationTask, GenerationOutput> {
  private static final long serialVersionUID = 1L;

  private final ModelSpec spec;
  private final SchedulerLimits limits;
  private final String loopId;
  private final AdmissionOrder order;
  private final long prefixCacheBytes;

  /** The default admission order, no prefix cache. */
  public GenerationOperatorFactory(ModelSpec spec, SchedulerLimits limits, String loopId) {
    this(spec, limits, loopId, AdmissionOrder.DEFAULT, 0);
  }

  /** @param prefixCacheBytes 0 turns the prefix cache off; below 0, a tenth of the heap */
  public GenerationOperatorFactory(ModelSpec spec, SchedulerLimits limits, String loopId, AdmissionOrder order,
      long prefixCacheBytes) {
    this.spec = spec;
    this.limits = limits;
    this.loopId = loopId;
    this.order = order;
    this.prefixCacheBytes = prefixCacheBytes;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends StreamOperator<GenerationOutput>> T createStreamOperator(
      StreamOperatorParameters<GenerationOutput> parameters) {
    return (T) new GenerationOperator(parameters, spec, limits, loopId, order, prefixCacheBytes,
        parameters.getMailboxExecutor());
  }

  @Override
  public Class<? extends StreamOperator<?>> getStreamOperatorClass(ClassLoader classLoader) {
    return GenerationOperator.class;
  }
}
