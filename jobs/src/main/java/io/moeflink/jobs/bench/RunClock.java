package io.moeflink.jobs.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The timed window of one dataflow run on a MiniCluster in this JVM: it opens when the first timed
 * request leaves {@link ReleaseAfterWarmup} (which waits until the warm-up request has come out,
 * so model loading and the first JIT compilations fall before it) and closes when the last timed
 * output leaves the generation operator ({@link StampFinished}, chained to it).
 *
 * <p>Runs are kept in a JVM-wide registry by run id: the functions that stamp them are serialized
 * into the job and reach it only through the id.
 */
final class RunClock {
  private static final ConcurrentHashMap<String, RunClock> RUNS = new ConcurrentHashMap<>();

  /** Opened when the warm-up output has been stamped. */
  private final CountDownLatch warmedUp = new CountDownLatch(1);
  /** When the first timed request entered the dataflow; 0 before. */
  private volatile long startNanos;
  /** When the latest timed output came out. */
  private final AtomicLong endNanos = new AtomicLong();
  /** Timed outputs so far. */
  private final AtomicLong outputs = new AtomicLong();
  /** Tokens of the timed outputs so far. */
  private final AtomicLong tokens = new AtomicLong();

  private RunClock() {}

  static RunClock register(String runId) {
    RunClock clock = new RunClock();
    if (RUNS.putIfAbsent(runId, clock) != null) {
      throw new IllegalStateException("Run " + runId + " is already registered");
    }
    return clock;
  }

  /** The clock of a run registered in this JVM. */
  static RunClock of(String runId) {
    RunClock clock = RUNS.get(runId);
    if (clock == null) {
      throw new IllegalStateException(
          "No run " + runId + " in this JVM: the dataflow benchmark needs a local MiniCluster in the process that measures");
    }
    return clock;
  }

  static void remove(String runId) {
    RUNS.remove(runId);
  }

  void warmUpFinished() {
    warmedUp.countDown();
  }

  /** Waits for the warm-up output; false when {@code timeoutMillis} passed first. */
  boolean awaitWarmUp(long timeoutMillis) throws InterruptedException {
    return warmedUp.await(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  void start(long nanos) {
    if (startNanos == 0) {
      startNanos = nanos;
    }
  }

  void finished(long nanos, int outputTokens) {
    endNanos.accumulateAndGet(nanos, Math::max);
    tokens.addAndGet(outputTokens);
    outputs.incrementAndGet();
  }

  /** Nanoseconds from the first timed request in to the last timed output out. */
  long elapsedNanos() {
    if (startNanos == 0 || outputs.get() == 0) {
      throw new IllegalStateException("The run has no timed window: no timed request went in or none came out");
    }
    return endNanos.get() - startNanos;
  }

  long outputs() {
    return outputs.get();
  }

  long tokens() {
    return tokens.get();
  }
}
