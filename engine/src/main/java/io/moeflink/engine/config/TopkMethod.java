package io.moeflink.engine.config;

/** {@code topk_method}: how the router selects experts from the affinities. */
public enum TopkMethod {
  /**
   * DeepSeek-V3's auxiliary-loss-free routing: {@code e_score_correction_bias} is added for
   * selection; a group scores the sum of its top-2 biased affinities.
   */
  NOAUX_TC("noaux_tc"),
  /** DeepSeek-V2-Lite: the top-k experts by affinity, no groups and no bias. */
  GREEDY("greedy"),
  /** DeepSeek-V2: groups score their largest affinity; top-k among the best {@code topk_group} groups. */
  GROUP_LIMITED_GREEDY("group_limited_greedy");

  private final String key;

  TopkMethod(String key) {
    this.key = key;
  }

  /** The value in {@code config.json}. */
  public String key() {
    return key;
  }

  /** Whether the router has an {@code e_score_correction_bias} (keyed on the method, never on sizes). */
  public boolean hasCorrectionBias() {
    return this == NOAUX_TC;
  }
}
