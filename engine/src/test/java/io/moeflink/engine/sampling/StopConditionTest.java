package io.moeflink.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.engine.sampling.StopCondition.Finish;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StopConditionTest {

  private static final int EOS = 1;

  private static StopCondition stopping(int maxTokens, List<String> stopStrings) {
    return new StopCondition(
        new SamplingParams(0, 0, 1, 0, maxTokens, Set.of(EOS), stopStrings));
  }

  @Test
  void goesOnBelowTheLimitWithoutStops() {
    assertThat(stopping(4, List.of()).check(42, 3, "abc")).isEmpty();
  }

  @Test
  void stopsAtAStopToken() {
    assertThat(stopping(4, List.of()).check(EOS, 2, "ab"))
        .contains(new Finish(FinishReason.STOP, 2));
  }

  @Test
  void stopsAtMaxTokensWithLength() {
    assertThat(stopping(4, List.of()).check(42, 4, "abcd"))
        .contains(new Finish(FinishReason.LENGTH, 4));
  }

  @Test
  void aStopTokenAtTheLimitIsAStop() {
    assertThat(stopping(4, List.of()).check(EOS, 4, "abcd"))
        .contains(new Finish(FinishReason.STOP, 4));
  }

  @Test
  void cutsTheTextBeforeTheEarliestStopString() {
    StopCondition condition = stopping(100, List.of("END", "\n\n"));
    assertThat(condition.check(42, 5, "Hello\n\nmore END")).contains(new Finish(FinishReason.STOP, 5));
    assertThat(condition.check(42, 5, "Hello END")).contains(new Finish(FinishReason.STOP, 6));
    assertThat(condition.check(42, 5, "Hello EN")).isEmpty();
  }

  @Test
  void aStopStringWinsOverTheLimit() {
    assertThat(stopping(3, List.of("!")).check(42, 3, "hi! there"))
        .contains(new Finish(FinishReason.STOP, 2));
  }

  @Test
  void rejectsACountBelowOne() {
    assertThatThrownBy(() -> stopping(3, List.of()).check(42, 0, ""))
        .hasMessageContaining("generatedCount must be >= 1, got 0");
  }
}
