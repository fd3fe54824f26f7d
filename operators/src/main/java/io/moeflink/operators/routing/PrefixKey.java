package io.moeflink.operators.routing;

import io.moeflink.operators.GenerationTask;
import org.apache.flink.api.java.functions.KeySelector;

/**
 * A task's routing key: the hash of its prompt's first {@code tokens} tokens (the whole prompt
 * when shorter), what the first block of the prefix cache is keyed by.
 */
public final class PrefixKey implements KeySelector<GenerationTask, Long> {
  private static final long serialVersionUID = 1L;
  private final int tokens;

  public PrefixKey(int tokens) {
    if (tokens < 1) {
      throw new IllegalArgumentException("A routing key of " + tokens + " tokens; expected at least 1");
    }
    this.tokens = tokens;
  }

  @Override
  public Long getKey(GenerationTask task) {
    return of(task.promptTokens(), tokens);
  }

  /** 64-bit FNV-1a over the first {@code tokens} token ids. */
  public static long of(int[] prompt, int tokens) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < Math.min(tokens, prompt.length); i++) {
      h = (h ^ prompt[i]) * 0x100000001b3L;
    }
    return h;
  }
}
