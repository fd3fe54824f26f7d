package io.moeflink.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

  private static SamplingParams with(double temperature, int topK, double topP, int maxTokens) {
    return new SamplingParams(temperature, topK, topP, 0, maxTokens, Set.of(), List.of());
  }

  @Test
  void greedyFactoryTurnsEverythingOff() {
    SamplingParams p = SamplingParams.greedy(32);
    assertThat(p.isGreedy()).isTrue();
    assertThat(p.topK()).isZero();
    assertThat(p.topP()).isEqualTo(1.0);
    assertThat(p.maxTokens()).isEqualTo(32);
    assertThat(p.stopTokenIds()).isEmpty();
    assertThat(p.stopStrings()).isEmpty();
  }

  @Test
  void rejectsInvalidTemperature() {
    assertThatThrownBy(() -> with(-0.1, 0, 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("temperature must be finite and >= 0 (0 = greedy), got -0.1");
    assertThatThrownBy(() -> with(Double.NaN, 0, 1, 1)).hasMessageContaining("got NaN");
    assertThatThrownBy(() -> with(Double.POSITIVE_INFINITY, 0, 1, 1))
        .hasMessageContaining("got Infinity");
  }

  @Test
  void rejectsInvalidTopK() {
    assertThatThrownBy(() -> with(1, -1, 1, 1))
        .hasMessage("topK must be >= 0 (0 = no limit), got -1");
  }

  @Test
  void rejectsInvalidTopP() {
    assertThatThrownBy(() -> with(1, 0, 0, 1))
        .hasMessage("topP must be in (0, 1] (1 = no limit), got 0.0");
    assertThatThrownBy(() -> with(1, 0, 1.01, 1)).hasMessageContaining("got 1.01");
    assertThatThrownBy(() -> with(1, 0, Double.NaN, 1)).hasMessageContaining("got NaN");
  }

  @Test
  void rejectsInvalidMaxTokens() {
    assertThatThrownBy(() -> with(1, 0, 1, 0)).hasMessage("maxTokens must be > 0, got 0");
  }

  @Test
  void rejectsInvalidStops() {
    assertThatThrownBy(() -> new SamplingParams(1, 0, 1, 0, 1, Set.of(-3), List.of()))
        .hasMessage("stopTokenIds must be >= 0, got -3");
    assertThatThrownBy(() -> new SamplingParams(1, 0, 1, 0, 1, Set.of(), List.of("ok", "")))
        .hasMessage("stopStrings must not contain an empty string");
  }

  @Test
  void copiesCollectionsAndTreatsNullAsNone() {
    Set<Integer> ids = new HashSet<>(Set.of(1));
    List<String> stops = new ArrayList<>(List.of("\n\n"));
    SamplingParams p = new SamplingParams(1, 0, 1, 0, 1, ids, stops);
    ids.add(2);
    stops.add("x");
    assertThat(p.stopTokenIds()).containsExactly(1);
    assertThat(p.stopStrings()).containsExactly("\n\n");
    SamplingParams none = new SamplingParams(1, 0, 1, 0, 1, null, null);
    assertThat(none.stopTokenIds()).isEmpty();
    assertThat(none.stopStrings()).isEmpty();
  }
}
