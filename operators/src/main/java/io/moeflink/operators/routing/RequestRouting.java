package io.moeflink.operators.routing;

import java.util.Locale;

/** How admitted requests reach the generation subtasks. */
public enum RequestRouting {
  /** Each stays on the subtask that admitted it (chained; in the corpus job: the subtask that reads its file). */
  FORWARD,
  /** By prompt prefix with bounded loads ({@link PrefixRouter}), so prefix caches hit. */
  PREFIX;

  /** {@code forward} or {@code prefix}, in any case. */
  public static RequestRouting parse(String name) {
    for (RequestRouting r : values()) {
      if (r.name().equalsIgnoreCase(name.trim())) {
        return r;
      }
    }
    throw new IllegalArgumentException("Unknown routing '" + name + "', expected forward or prefix");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
