package io.moeflink.engine.checkpoint;

import java.util.Arrays;

/**
 * One tensor's header entry in a safetensors file.
 *
 * @param name tensor name as stored
 * @param dtype element type
 * @param shape dimensions, outermost first
 * @param begin first data byte, relative to the end of the header
 * @param end one past the last data byte, relative to the end of the header
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

  /** Number of elements (checked arithmetic). */
  public long elementCount() {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** The shape as {@code [a, b]}, as messages print it. */
  public String shapeText() {
    return Arrays.toString(shape);
  }
}
