package io.moeflink.operators.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.admission.AdmissionOrder;
import io.moeflink.operators.admission.TenantWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WaitingRequestsTest {

  private static GenerationTask task(String id, int priority, String tenant) {
    return new GenerationTask(id, new int[] {1, 2}, SamplingParams.greedy(2), null, Map.of(), 0, priority, tenant);
  }

  private static WaitingRequests queue(String weights) {
    return new WaitingRequests(new AdmissionOrder(1000, TenantWeights.parse(weights)));
  }

  private static List<String> drain(WaitingRequests q) {
    List<String> ids = new ArrayList<>();
    for (GenerationTask t = q.poll(); t != null; t = q.poll()) {
      ids.add(t.id());
      q.finished(t);
    }
    return ids;
  }

  @Test
  void higherPriorityGoesFirstAndEqualPrioritiesInArrivalOrder() {
    WaitingRequests q = queue("");
    q.add(task("low-1", 0, null));
    q.add(task("low-2", 0, null));
    q.add(task("mid", 3, null));
    q.add(task("low-3", 0, null));
    q.add(task("urgent", 9, null));
    q.add(task("negative", -1, null));
    q.add(task("mid-2", 3, null));
    assertThat(drain(q)).containsExactly("urgent", "mid", "mid-2", "low-1", "low-2", "low-3", "negative");
  }

  /**
   * Tenant a (weight 3) floods before b (weight 1): grants go 3 to 1 from the start, with one slot
   * or four, whoever finishes, until b has nothing left.
   */
  @Test
  void underAFloodSlotGrantsFollowTheTenantsWeights() {
    for (int slots : new int[] {1, 4}) {
      WaitingRequests q = queue("a=3,b=1");
      for (int i = 0; i < 300; i++) {
        q.add(task("a" + i, 0, "a"));
      }
      for (int i = 0; i < 100; i++) {
        q.add(task("b" + i, 0, "b"));
      }
      List<GenerationTask> running = new ArrayList<>();
      Random random = new Random(7);
      int a = 0;
      int b = 0;
      for (int grant = 0; grant < 400; ) {
        while (running.size() < slots && grant < 400) {
          GenerationTask t = q.poll();
          running.add(t);
          grant++;
          if (WaitingRequests.tenantOf(t).equals("a")) {
            a++;
          } else {
            b++;
          }
          assertThat(Math.abs(a - 3 * b)).as("%d slots, after %d grants: a %d, b %d", slots, grant, a, b)
              .isLessThanOrEqualTo(3);
        }
        q.finished(running.remove(random.nextInt(running.size()))); // any one finishes
      }
      assertThat(a).isEqualTo(300);
      assertThat(b).isEqualTo(100);
    }
  }

  /** A tenant that waited nothing for a while joins at the virtual time: it gets its share, not a burst. */
  @Test
  void aTenantReturningAfterAnIdleSpellEarnsNoBurst() {
    WaitingRequests q = queue("");
    for (int i = 0; i < 20; i++) {
      q.add(task("a" + i, 0, "a"));
    }
    for (int i = 0; i < 10; i++) {
      q.finished(q.poll()); // a alone: its pass runs ahead
    }
    for (int i = 0; i < 6; i++) {
      q.add(task("b" + i, 0, "b"));
    }
    assertThat(drain(q).subList(0, 6)).containsExactly("b0", "a10", "b1", "a11", "b2", "a12");
  }

  @Test
  void aTenantAloneGetsEverySlotAndUnnamedTenantsWeighOne() {
    WaitingRequests q = queue("a=3");
    q.add(task("x1", 0, "x"));
    q.add(task("none1", 0, null));
    q.add(task("x2", 0, "x"));
    q.add(task("none2", 0, null));
    // x and "" both weigh 1: they alternate, the earlier head first on a tie
    assertThat(List.of(q.poll().id(), q.poll().id(), q.poll().id(), q.poll().id()))
        .containsExactly("x1", "none1", "x2", "none2");
  }

  @Test
  void reAddingTheSnapshotInArrivalOrderGivesTheSameOrder() {
    WaitingRequests q = queue("a=2,b=1");
    Random random = new Random(11);
    for (int i = 0; i < 60; i++) {
      q.add(task("t" + i, random.nextInt(3), random.nextBoolean() ? "a" : "b"));
    }
    for (int i = 0; i < 7; i++) {
      q.poll(); // some have run: the passes moved
    }
    WaitingRequests restored = queue("a=2,b=1");
    restored.restore(q.passes(), q.virtualTime(), q.inArrivalOrder());
    assertThat(drain(restored)).isEqualTo(drain(q)).hasSize(53);
  }

  @Test
  void fillsUpToItsBoundAndRefusesBadWeights() {
    WaitingRequests q = new WaitingRequests(new AdmissionOrder(2, TenantWeights.EQUAL));
    q.add(task("1", 0, null));
    assertThat(q.isFull()).isFalse();
    q.add(task("2", 0, null));
    assertThat(q.isFull()).isTrue();
    assertThatThrownBy(() -> TenantWeights.parse("a=3,b")).hasMessageContaining("\"b\"").hasMessageContaining("a=3,b=1");
    assertThatThrownBy(() -> TenantWeights.parse("a=0")).hasMessageContaining("at least 1");
    assertThatThrownBy(() -> TenantWeights.parse("a=1,a=2")).hasMessageContaining("twice");
    assertThat(TenantWeights.parse(" a = 3 , b=1").weight("a")).isEqualTo(3);
  }
}
