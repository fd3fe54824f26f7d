package io.moeflink.operators.routing;

import java.util.Arrays;
import org.apache.flink.api.common.functions.Partitioner;

/**
 * Sends requests whose prompts start alike to the same generation subtask, so that its prefix
 * cache holds their prefix, without letting one hot prefix overload that subtask: consistent
 * hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018).
 *
 * <p>Each subtask owns {@link #VIRTUAL_NODES} points on a 64-bit ring. A key (the hash of the
 * prompt's first block, {@link PrefixKey}) starts at the first point at or after its own position
 * and walks clockwise to the first subtask whose count is below the cap {@code ceil((1 + balance)
 * * (routed + 1) / G)}, where {@code routed} counts the requests this sender has routed. Hence,
 * after every request, no subtask has been sent more than {@code ceil((1 + balance) * routed / G)}
 * of them: with {@code balance} 0.25 and G = 2, at most 62.5%. A key keeps its subtask as long as
 * that subtask is below the cap; a hot key spills over to the next subtasks on the ring, in the
 * same order each time, so they too keep its prefix warm.
 *
 * <p>Each sending subtask keeps its own counts (Flink gives every subtask its own copy of the
 * partitioner), so the bound holds per sender; with S senders a subtask gets at most {@code
 * (1 + balance) * routed / G + S}. The counts are not checkpointed: after a restore they start
 * again at zero. Routing only decides where a request runs, never what it generates.
 */
public final class PrefixRouter implements Partitioner<Long> {
  private static final long serialVersionUID = 1L;
  /** Ring points per subtask: enough that the subtasks' arcs differ by a few percent. */
  public static final int VIRTUAL_NODES = 64;
  /** How far above the mean a subtask's share may go. */
  public static final double DEFAULT_BALANCE = 0.25;

  private final double balance;
  private transient long[] points; // (G * VIRTUAL_NODES) ascending ring positions
  private transient int[] owners; // (G * VIRTUAL_NODES) the subtask of each point
  private transient long[] sent; // (G) requests sent to each subtask
  private transient long routed;

  public PrefixRouter(double balance) {
    if (!(balance > 0)) {
      throw new IllegalArgumentException("The routing balance is " + balance + ", expected more than 0 (e.g. 0.25)");
    }
    this.balance = balance;
  }

  public PrefixRouter() {
    this(DEFAULT_BALANCE);
  }

  @Override
  public int partition(Long key, int numPartitions) {
    if (sent == null || sent.length != numPartitions) {
      buildRing(numPartitions);
    }
    long cap = (long) Math.ceil((1 + balance) * (routed + 1) / numPartitions);
    int at = Arrays.binarySearch(points, mix(key));
    int start = at >= 0 ? at : -at - 1;
    for (int i = 0; i < points.length; i++) {
      int owner = owners[(start + i) % points.length];
      if (sent[owner] < cap) {
        sent[owner]++;
        routed++;
        return owner;
      }
    }
    throw new IllegalStateException("No subtask below the cap of " + cap + " after " + routed + " requests");
  }

  /** Requests sent to each subtask so far by this sender (tests, metrics). */
  long[] sent() {
    return sent == null ? new long[0] : sent.clone();
  }

  private void buildRing(int subtasks) {
    int n = subtasks * VIRTUAL_NODES;
    long[][] ring = new long[n][];
    for (int g = 0; g < subtasks; g++) {
      for (int v = 0; v < VIRTUAL_NODES; v++) {
        ring[g * VIRTUAL_NODES + v] = new long[] {mix(g * 0x9E3779B97F4A7C15L + v + 1), g};
      }
    }
    Arrays.sort(ring, (a, b) -> Long.compare(a[0], b[0]));
    points = new long[n];
    owners = new int[n];
    for (int i = 0; i < n; i++) {
      points[i] = ring[i][0];
      owners[i] = (int) ring[i][1];
    }
    sent = new long[subtasks];
    routed = 0;
  }

  /** SplitMix64's finalizer: spreads hashes that differ in few bits over the whole ring. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
