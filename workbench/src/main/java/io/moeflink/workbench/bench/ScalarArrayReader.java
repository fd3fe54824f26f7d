package io.moeflink.workbench.bench;

import java.nio.ByteBuffer;

/** Plain {@code getLong} loads, for JVMs without the Vector API. */
final class ScalarArrayReader implements ArrayReader {
  @Override
  public long sum(ByteBuffer buffer, int from, int to) {
    long a = 0;
    long b = 0;
    int i = from;
    for (; i + 16 <= to; i += 16) {
      a += buffer.getLong(i);
      b += buffer.getLong(i + 8);
    }
    for (; i < to; i += 8) {
      a += buffer.getLong(i);
    }
    return a + b;
  }
}
