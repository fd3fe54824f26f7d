package io.moeflink.operators;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.testing.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json and the tokenizer are read once per subtask and attempt, and dropped with their last user. */
class ModelFilesTest {
  @TempDir Path tmp;

  @Test
  void theOperatorsOfOneSubtaskShareOneReadOfTheFiles() {
    Path model = TestModels.golden("bf16", tmp.resolve("bf16"));
    int before = ModelFiles.openCount();
    ModelFiles admission = ModelFiles.acquire("job", 0, 1, model);
    ModelFiles generation = ModelFiles.acquire("job", 0, 1, model.resolve("..").resolve("bf16"));
    assertThat(generation).isSameAs(admission);
    assertThat(generation.config()).isSameAs(admission.config());

    ModelFiles otherSubtask = ModelFiles.acquire("job", 0, 2, model);
    ModelFiles nextAttempt = ModelFiles.acquire("job", 1, 1, model);
    assertThat(otherSubtask).isNotSameAs(admission);
    assertThat(nextAttempt).isNotSameAs(admission);
    assertThat(ModelFiles.openCount()).isEqualTo(before + 3);

    admission.release();
    assertThat(ModelFiles.acquire("job", 0, 1, model)).as("still held by generation").isSameAs(generation).satisfies(ModelFiles::release);
    generation.release();
    otherSubtask.release();
    nextAttempt.release();
    assertThat(ModelFiles.openCount()).isEqualTo(before);
  }
}
