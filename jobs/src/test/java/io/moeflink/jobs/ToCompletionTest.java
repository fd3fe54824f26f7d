package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.operators.GenerationOutput;
import io.moeflink.schemas.Completion;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ToCompletionTest {
  private static Completion of(String text) {
    return new ToCompletion().map(new GenerationOutput(
        "r", new int[] {5, 6}, text, GenerationOutput.STOP, null, 3, 0, 0, 0, 0, "m", Map.of()));
  }

  @Test
  void movesTheThinkingBeforeThinkCloseToReasoning() {
    Completion c = of("Two and two.\n</think>\n\n4");
    assertThat(c.getReasoning()).isEqualTo("Two and two.\n");
    assertThat(c.getText()).isEqualTo("\n\n4");
    Completion plain = of("4");
    assertThat(plain.getReasoning()).isNull();
    assertThat(plain.getText()).isEqualTo("4");
    assertThat(of(null).getText()).isEmpty();
  }
}
