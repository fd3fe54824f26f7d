package io.moeflink.engine.generate;

/** Turns generated token ids into text (for stop strings and completions). */
@FunctionalInterface
public interface TextDecoder {
  String decode(int[] tokens);
}
