package io.moeflink.engine.generate;

import java.util.Locale;

/** How decoding speculates: not at all, or with drafts of the checkpoint's MTP module. */
public enum Speculation {
  NONE,
  /** Drafts from DeepSeek-V3's multi-token prediction module, verified exactly by the main model. */
  MTP;

  /** {@code none} or {@code mtp}, in any case. */
  public static Speculation parse(String name) {
    for (Speculation s : values()) {
      if (s.name().equalsIgnoreCase(name.trim())) {
        return s;
      }
    }
    throw new IllegalArgumentException("Unknown speculation '" + name + "', expected none or mtp");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
