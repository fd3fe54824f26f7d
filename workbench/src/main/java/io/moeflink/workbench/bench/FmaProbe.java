package io.moeflink.workbench.bench;

import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;

/**
 * The machine's fused multiply-add throughput, the denominator of every compute fraction: each of
 * the kernels' threads (through their pool) runs a loop of independent FMA chains on registers
 * only, in the kernels' vector width, so nothing waits for memory or for a chain's latency. The
 * result of the chains is kept, so the JIT cannot drop them.
 */
final class FmaProbe {
  /** FMAs per chain per pass: long enough to dwarf the pool's start-up, short enough to repeat. */
  private static final long ITERATIONS = 1L << 24;

  /** Iterations of one warm-up call, and how long the warm-up calls go on. */
  private static final long WARM_UP_ITERATIONS = 256;
  private static final long WARM_UP_NANOS = 300_000_000L;

  private final Chains chains;
  private final KernelBackend kernels;
  private final double[] sink;

  FmaProbe(KernelBackend kernels) {
    this.kernels = kernels;
    this.chains = Backends.vectorApiPresent() ? new VectorFmaChains() : new ScalarFmaChains();
    this.sink = new double[kernels.threads()];
  }

  /** Independent FMA chains on registers. */
  interface Chains {
    /** Runs {@code iterations} steps of every chain; returns their sum. */
    double run(long iterations, float seed);

    /** Floating-point operations one step of all chains does (2 per FMA lane). */
    long flopsPerIteration();

    String description();
  }

  /** One pass on every thread; returns FLOP/s. */
  double pass() {
    int threads = sink.length;
    long start = System.nanoTime();
    kernels.parallelFor(threads, t -> sink[t] = chains.run(ITERATIONS, 1e-7f * (t + 1)));
    long elapsed = System.nanoTime() - start;
    return (double) chains.flopsPerIteration() * ITERATIONS * threads * 1e9 / elapsed;
  }

  /**
   * The median of {@code passes} passes after the JIT's warm-up: short runs of the chains first,
   * so that C2 compiles them as a method (a pass's long loop alone is compiled on stack, OSR,
   * after millions of boxed iterations in the interpreter), then one untimed pass.
   */
  FmaMeasurement measure(int passes) {
    long warmUpEnd = System.nanoTime() + WARM_UP_NANOS;
    double warm = 0;
    while (System.nanoTime() < warmUpEnd) {
      warm += chains.run(WARM_UP_ITERATIONS, 1e-7f);
    }
    pass();
    double[] flops = new double[passes];
    for (int p = 0; p < passes; p++) {
      flops[p] = pass();
    }
    double checksum = warm;
    for (double s : sink) {
      checksum += s;
    }
    return new FmaMeasurement(Medians.of(flops), sink.length, chains.description(), checksum);
  }
}
