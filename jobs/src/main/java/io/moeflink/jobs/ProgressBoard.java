package io.moeflink.jobs;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Progress of corpus runs in this JVM, for the CLI that runs them on a local MiniCluster. On a
 * cluster the same figures are Flink metrics ({@code recordsDone}, {@code completionTokens}).
 */
public final class ProgressBoard {
  private static final ConcurrentHashMap<String, Progress> RUNS = new ConcurrentHashMap<>();

  private ProgressBoard() {}

  /** Records and tokens done so far by one run. */
  public static final class Progress {
    final AtomicLong records = new AtomicLong();
    final AtomicLong tokens = new AtomicLong();

    public long records() {
      return records.get();
    }

    public long tokens() {
      return tokens.get();
    }
  }

  public static Progress of(String runId) {
    return RUNS.computeIfAbsent(runId, id -> new Progress());
  }

  public static void remove(String runId) {
    RUNS.remove(runId);
  }
}
