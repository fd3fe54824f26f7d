package io.moeflink.engine.kernel;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The kernel backends, as users name them on the command line and in job options. */
public enum BackendKind {
  /** The Vector API where the JVM has the module, else scalar. */
  AUTO,
  /** The Vector API ({@code --add-modules jdk.incubator.vector}). */
  VECTOR,
  /** Plain loops: the reference. */
  SCALAR,
  /** An NVIDIA GPU through JCuda. */
  CUDA;

  /**
   * The kind named {@code name}, case-insensitively.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static BackendKind parse(String name) {
    for (BackendKind k : values()) {
      if (k.name().equalsIgnoreCase(name.trim())) {
        return k;
      }
    }
    throw new IllegalArgumentException("Unknown backend '" + name + "', expected one of " + names());
  }

  /** {@code auto, vector, scalar, cuda}. */
  public static String names() {
    return Arrays.stream(values()).map(BackendKind::toString).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
