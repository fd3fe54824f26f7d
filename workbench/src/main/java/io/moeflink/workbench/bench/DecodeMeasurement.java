package io.moeflink.workbench.bench;

/**
 * Decode at one batch size: every sequence advances one token per step.
 *
 * @param batch sequences per step
 * @param warmupSteps untimed steps before them
 * @param steps timed steps
 * @param medianStepNanos median step time (forward pass through the LM head)
 * @param bytesPerStep weight bytes a step reads, averaged over the timed steps
 * @param denseBytesPerStep the dense part of it
 * @param expertsPerLayer distinct routed experts touched per MoE layer, averaged
 * @param limit the read bandwidth measured between this configuration's steps
 * @param flopsPerStep floating-point operations of a step ({@link FlopCount})
 * @param allocatedBytesPerStep heap bytes the JVM's threads allocated per timed step, -1 where not
 *     counted ({@link HeapAllocations})
 */
public record DecodeMeasurement(
    int batch, int warmupSteps, int steps, long medianStepNanos, double bytesPerStep, long denseBytesPerStep,
    double expertsPerLayer, BandwidthMeasurement limit, double flopsPerStep, double allocatedBytesPerStep) {

  public double tokensPerSecond() {
    return batch * 1e9 / medianStepNanos;
  }

  /** Weight bytes streamed per second at the median step time. */
  public double bytesPerSecond() {
    return bytesPerStep * 1e9 / medianStepNanos;
  }

  /** Floating-point operations per second at the median step time. */
  public double flopsPerSecond() {
    return flopsPerStep * 1e9 / medianStepNanos;
  }

  /** Achieved over measured read bandwidth: 1.0 would be a step that only streams its weights. */
  public double ratio() {
    return bytesPerSecond() / limit.bytesPerSecond();
  }
}
