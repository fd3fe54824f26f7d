package io.moeflink.operators.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PrefixRouterTest {

  /** After every request no subtask has been sent more than ceil(1.25 * routed / G), however hot one key is. */
  @Test
  void oneHotPrefixCannotPushASubtaskPastTheBound() {
    for (int g : new int[] {2, 3, 8}) {
      PrefixRouter router = new PrefixRouter();
      Random random = new Random(g);
      long[] sent = new long[g];
      for (int n = 1; n <= 20_000; n++) {
        long key = random.nextDouble() < 0.9 ? 42L : random.nextLong(); // 90% share one prefix
        sent[router.partition(key, g)]++;
        long bound = (long) Math.ceil(1.25 * n / g);
        for (int s = 0; s < g; s++) {
          assertThat(sent[s]).as("G=%d, subtask %d after %d requests", g, s, n).isLessThanOrEqualTo(bound);
        }
      }
      assertThat(router.sent()).containsExactly(sent);
    }
  }

  /** Under the bound a key mostly keeps its subtask; keys spread over all subtasks. */
  @Test
  void mostRequestsOfAKeyGoToOneSubtask() {
    PrefixRouter router = new PrefixRouter();
    Map<Long, Map<Integer, Integer>> bySubtask = new HashMap<>();
    Random random = new Random(3);
    for (int n = 0; n < 10_000; n++) {
      long key = random.nextInt(200); // 200 prefixes of equal popularity
      bySubtask.computeIfAbsent(key, k -> new HashMap<>()).merge(router.partition(key, 4), 1, Integer::sum);
    }
    int onModal = bySubtask.values().stream().mapToInt(m -> m.values().stream().max(Integer::compare).orElseThrow()).sum();
    System.out.printf("200 equally popular prefixes over 4 subtasks: %.1f%% of requests on their prefix's usual subtask%n",
        onModal / 100.0);
    assertThat(onModal).as("requests on their key's usual subtask").isGreaterThan(8_000);
    Set<Integer> homes = new HashSet<>();
    bySubtask.values().forEach(m -> homes.addAll(m.keySet()));
    assertThat(homes).containsExactlyInAnyOrder(0, 1, 2, 3);
  }

  /** A hot prefix overflows to the next subtasks on its ring walk, always the same ones. */
  @Test
  void aHotPrefixSpillsOverToAFewSubtasks() {
    PrefixRouter router = new PrefixRouter();
    Set<Integer> used = new HashSet<>();
    for (int n = 0; n < 1000; n++) {
      used.add(router.partition(7L, 8));
    }
    assertThat(used).hasSize(7); // alone it needs ceil(8 / 1.25) subtasks to stay within the bound
    PrefixRouter mixed = new PrefixRouter();
    Map<Integer, Integer> hot = new HashMap<>();
    Random random = new Random(5);
    for (int n = 0; n < 8000; n++) {
      boolean isHot = n % 4 == 0; // a quarter of the traffic: twice a subtask's fair share
      int s = mixed.partition(isHot ? 7L : random.nextLong(), 8);
      if (isHot) {
        hot.merge(s, 1, Integer::sum);
      }
    }
    assertThat(hot.size()).as("subtasks holding the hot prefix").isLessThanOrEqualTo(4);
  }

  /** 2,000 requests behind one system prompt at G = 2: the home subtask takes 62.5%, the other the rest. */
  @Test
  void oneSharedSystemPromptAtTwoSubtasksSplitsAtTheBound() {
    PrefixRouter router = new PrefixRouter();
    long key = PrefixKey.of(new int[] {0, 5, 9, 12}, 32);
    for (int n = 0; n < 2000; n++) {
      router.partition(key, 2);
    }
    long[] sent = router.sent();
    System.out.printf("one prefix, 2000 requests, G=2: %d and %d%n", sent[0], sent[1]);
    assertThat(Math.max(sent[0], sent[1])).isEqualTo(1250);
    assertThat(Math.min(sent[0], sent[1])).isEqualTo(750);
  }

  @Test
  void refusesANonPositiveBalance() {
    assertThatThrownBy(() -> new PrefixRouter(0)).hasMessageContaining("more than 0");
    assertThat(PrefixKey.of(new int[] {1, 2, 3}, 2)).isEqualTo(PrefixKey.of(new int[] {1, 2, 9}, 2));
    assertThat(PrefixKey.of(new int[] {1, 2, 3}, 3)).isNotEqualTo(PrefixKey.of(new int[] {1, 2, 9}, 3));
  }
}
