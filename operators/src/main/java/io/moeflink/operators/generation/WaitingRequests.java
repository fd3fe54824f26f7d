package io.moeflink.operators.generation;

import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.admission.AdmissionOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The requests a generation subtask holds until a sequence slot frees, and which one gets it: the
 * highest priority waiting first; within it, the tenant that is furthest behind its share; within
 * a tenant, first come first served. Priority is strict: an urgent request overtakes every lower
 * one.
 *
 * <p>Shares are stride scheduling over slot grants: each tenant has a pass; the tenant with the
 * lowest pass (ties: the earlier head request) gets the slot and its pass advances by {@link
 * #STRIDE} / weight. Under a flood the grants, and with requests of like length the slots, go to
 * the tenants in the ratio of their weights, whatever the number of slots (one included), so one
 * tenant's flood cannot starve another. A tenant that starts waiting again joins at the virtual
 * time (the pass of the last grant), so an idle period earns it no burst.
 *
 * <p>The choice depends only on what waits, in which order, the passes and the virtual time: a
 * restore that brings back the passes and re-adds the waiting requests in their arrival order
 * ({@link #restore}) makes the same choices again.
 */
final class WaitingRequests {
  private final AdmissionOrder order;
  /** Priority (highest first) -> tenant -> that tenant's requests of that priority, oldest first. */
  private final TreeMap<Integer, Map<String, ArrayDeque<Waiting>>> byPriority = new TreeMap<>(Comparator.reverseOrder());
  /** The pass advance of a grant to a tenant of weight 1; divisible by every weight up to 16. */
  static final long STRIDE = 720720;

  /** Sequences in flight per tenant (metrics). */
  private final Map<String, Integer> running = new HashMap<>();
  /** Waiting requests per tenant, all priorities. */
  private final Map<String, Integer> waitingByTenant = new HashMap<>();
  /** Each tenant's pass: grants so far, each worth STRIDE / weight, from where it joined. */
  private final Map<String, Long> passes = new HashMap<>();
  /** The pass of the last grant. */
  private long virtualTime;
  private long arrivals;
  private int size;

  private record Waiting(GenerationTask task, long arrival) {}

  WaitingRequests(AdmissionOrder order) {
    this.order = order;
  }

  /** The tenant a task counts for: {@code ""} when it names none. */
  static String tenantOf(GenerationTask task) {
    return task.tenant() == null ? "" : task.tenant();
  }

  boolean isFull() {
    return size >= order.maxWaiting();
  }

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  void add(GenerationTask task) {
    String tenant = tenantOf(task);
    if (waitingByTenant.getOrDefault(tenant, 0) == 0) {
      passes.put(tenant, Math.max(passes.getOrDefault(tenant, 0L), virtualTime)); // joins now, no credit
    }
    enqueue(task);
  }

  /**
   * Brings back a snapshot: the passes, the virtual time and the waiting requests in arrival order
   * (as {@link #passes()}, {@link #virtualTime()} and {@link #inArrivalOrder()} gave them).
   */
  void restore(Map<String, Long> savedPasses, long savedVirtualTime, List<GenerationTask> waitingInOrder) {
    passes.putAll(savedPasses);
    virtualTime = Math.max(virtualTime, savedVirtualTime);
    waitingInOrder.forEach(this::enqueue);
  }

  private void enqueue(GenerationTask task) {
    waitingByTenant.merge(tenantOf(task), 1, Integer::sum);
    byPriority.computeIfAbsent(task.priority(), p -> new LinkedHashMap<>())
        .computeIfAbsent(tenantOf(task), t -> new ArrayDeque<>())
        .add(new Waiting(task, arrivals++));
    size++;
  }

  /** Takes the request that gets the next free slot and counts it as running; null when none waits. */
  GenerationTask poll() {
    if (size == 0) {
      return null;
    }
    Map<String, ArrayDeque<Waiting>> level = byPriority.firstEntry().getValue();
    String best = null;
    for (Map.Entry<String, ArrayDeque<Waiting>> e : level.entrySet()) {
      if (best == null || before(e.getKey(), e.getValue().peek(), best, level.get(best).peek())) {
        best = e.getKey();
      }
    }
    ArrayDeque<Waiting> queue = level.get(best);
    GenerationTask task = queue.poll().task();
    if (queue.isEmpty()) {
      level.remove(best);
      if (level.isEmpty()) {
        byPriority.pollFirstEntry();
      }
    }
    size--;
    waitingByTenant.merge(best, -1, Integer::sum);
    long pass = passes.get(best);
    virtualTime = pass;
    passes.put(best, pass + Math.max(1, STRIDE / order.tenantWeights().weight(best)));
    started(task);
    return task;
  }

  /** Whether tenant {@code a} gets the slot before tenant {@code b}: the lower pass, then the earlier head. */
  private boolean before(String a, Waiting headA, String b, Waiting headB) {
    long pa = passes.get(a);
    long pb = passes.get(b);
    return pa != pb ? pa < pb : headA.arrival() < headB.arrival();
  }

  /** Each tenant's pass (the snapshot). */
  Map<String, Long> passes() {
    return Map.copyOf(passes);
  }

  /** The pass of the last grant (the snapshot). */
  long virtualTime() {
    return virtualTime;
  }

  /** Counts {@code task} as running (a restored in-flight sequence, or one {@link #poll()} took). */
  void started(GenerationTask task) {
    running.merge(tenantOf(task), 1, Integer::sum);
  }

  /** A running sequence of {@code task}'s tenant finished. */
  void finished(GenerationTask task) {
    running.computeIfPresent(tenantOf(task), (t, n) -> n == 1 ? null : n - 1);
  }

  int running(String tenant) {
    return running.getOrDefault(tenant, 0);
  }

  /** Every waiting request in arrival order (the snapshot; re-adding them in it restores the queue). */
  List<GenerationTask> inArrivalOrder() {
    List<Waiting> all = new ArrayList<>(size);
    byPriority.values().forEach(level -> level.values().forEach(all::addAll));
    all.sort(Comparator.comparingLong(Waiting::arrival));
    return all.stream().map(Waiting::task).toList();
  }
}
