package io.moeflink.engine.kernel;

/** Activations on the Java heap, the buffers of the CPU backends. */
final class HostActivations implements Activations {
  final float[] values;

  HostActivations(float[] values) {
    this.values = values;
  }

  /** The heap array behind {@code a}, which must come from a CPU backend. */
  static float[] of(Activations a) {
    if (a instanceof HostActivations h) {
      return h.values;
    }
    throw new IllegalArgumentException(
        "Activations " + a + " belong to another backend (a device buffer was passed to a CPU backend)");
  }

  @Override
  public int length() {
    return values.length;
  }

  @Override
  public void close() {}

  @Override
  public String toString() {
    return "heap activations [" + values.length + "]";
  }
}
