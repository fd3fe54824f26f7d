package io.moeflink.engine.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/** The threads a CPU backend splits work over; each index runs whole on one thread. */
final class WorkerPool implements AutoCloseable {
  private final int threads;
  private final ForkJoinPool pool;

  WorkerPool(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads is " + threads + ", expected at least 1");
    }
    this.threads = threads;
    this.pool =
        threads == 1
            ? null
            : new ForkJoinPool(
                threads,
                p -> {
                  ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                  t.setName("moe-kernel-" + t.getPoolIndex());
                  t.setDaemon(true);
                  return t;
                },
                null,
                false);
  }

  int threads() {
    return threads;
  }

  void parallelFor(int count, IntConsumer body) {
    if (pool == null || count <= 1) {
      for (int i = 0; i < count; i++) {
        body.accept(i);
      }
      return;
    }
    if (onOwnWorker()) {
      new Range(0, count, body).compute();
    } else {
      pool.invoke(new Range(0, count, body));
    }
  }

  private boolean onOwnWorker() {
    return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool;
  }

  /** Splits an index range in halves down to single indices. */
  private static final class Range extends RecursiveAction {
    private static final long serialVersionUID = 1L;
    private final int from;
    private final int to;
    private final transient IntConsumer body;

    Range(int from, int to, IntConsumer body) {
      this.from = from;
      this.to = to;
      this.body = body;
    }

    @Override
    protected void compute() {
      if (to - from == 1) {
        body.accept(from);
        return;
      }
      int mid = (from + to) >>> 1;
      invokeAll(new Range(from, mid, body), new Range(mid, to, body));
    }
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
