package io.moeflink.engine.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The threads a CPU backend splits work over; each index runs whole on one thread, so which
 * thread ran it never changes a result.
 *
 * <p>Built for many short jobs: a decode step makes hundreds of {@link #parallelFor} calls of
 * 20-200 us each. The calling thread works on the job itself and {@code threads - 1} helpers claim
 * indices from a shared counter; an idle helper spins for {@link #SPIN_NANOS} before it parks. A
 * ForkJoinPool, which parks its workers at once and wakes them per task, lost that race on a
 * virtual machine: by the time a worker woke (tens of microseconds) the caller had run the whole
 * job alone, and decode at batch 1 ran on one core.
 *
 * <p>Nested calls (from inside a job, on any of its threads) and calls from a second thread while a
 * job runs execute inline on the calling thread: the pool is already busy.
 */
final class WorkerPool implements AutoCloseable {
  /** How long an idle helper waits for the next job before parking: longer than a wake-up. */
  private static final long SPIN_NANOS = 200_000;

  private final int threads;
  private final Helper[] helpers;
  private final ReentrantLock submit = new ReentrantLock();
  private volatile Job job; // the job in flight, null between jobs
  private volatile boolean closed;
  private long generation; // guarded by submit

  WorkerPool(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads is " + threads + ", expected at least 1");
    }
    this.threads = threads;
    this.helpers = new Helper[threads - 1];
    for (int i = 0; i < helpers.length; i++) {
      helpers[i] = new Helper("moe-kernel-" + (i + 1));
      helpers[i].start();
    }
  }

  int threads() {
    return threads;
  }

  void parallelFor(int count, IntConsumer body) {
    if (helpers.length == 0 || count <= 1 || submit.isHeldByCurrentThread() || !submit.tryLock()) {
      for (int i = 0; i < count; i++) {
        body.accept(i);
      }
      return;
    }
    try {
      Job j = new Job(++generation, count, body);
      job = j;
      for (Helper h : helpers) {
        if (h.parked) {
          LockSupport.unpark(h);
        }
      }
      j.work();
      long start = System.nanoTime();
      while (j.done.get() < count) { // helpers finishing their last index
        if (System.nanoTime() - start < SPIN_NANOS) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
      job = null;
      j.rethrowFailure();
    } finally {
      submit.unlock();
    }
  }

  /** One {@code parallelFor}: indices are claimed one at a time by whichever thread is free. */
  private static final class Job {
    final long generation;
    final int count;
    final IntConsumer body;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    volatile Throwable failure;

    Job(long generation, int count, IntConsumer body) {
      this.generation = generation;
      this.count = count;
      this.body = body;
    }

    void work() {
      for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
        try {
          body.accept(i);
        } catch (Throwable t) {
          if (failure == null) {
            failure = t;
          }
        } finally {
          done.incrementAndGet();
        }
      }
    }

    void rethrowFailure() {
      Throwable t = failure;
      if (t instanceof RuntimeException e) {
        throw e;
      }
      if (t instanceof Error e) {
        throw e;
      }
      if (t != null) {
        throw new IllegalStateException("A kernel task failed", t);
      }
    }
  }

  /** A helper thread: runs each new job's unclaimed indices, spins a while, then parks. */
  private final class Helper extends Thread {
    volatile boolean parked;

    Helper(String name) {
      super(name);
      setDaemon(true);
    }

    @Override
    public void run() {
      long seen = 0;
      while (!closed) {
        Job j = job;
        if (j != null && j.generation != seen) {
          seen = j.generation;
          j.work();
          continue;
        }
        long start = System.nanoTime();
        while (System.nanoTime() - start < SPIN_NANOS && !closed && isStale(job, seen)) {
          Thread.onSpinWait();
        }
        if (isStale(job, seen) && !closed) {
          parked = true;
          if (isStale(job, seen) && !closed) { // re-check after announcing: submit reads parked after job
            LockSupport.park(this);
          }
          parked = false;
        }
      }
    }

    private boolean isStale(Job j, long seen) {
      return j == null || j.generation == seen;
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Helper h : helpers) {
      LockSupport.unpark(h);
    }
  }
}
