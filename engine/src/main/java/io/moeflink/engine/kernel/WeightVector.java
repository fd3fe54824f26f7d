package io.moeflink.engine.kernel;

/**
 * A one-dimensional weight (an RMSNorm scale), immutable and shared like a {@link WeightMatrix};
 * a device backend keeps its own copy resident, keyed by this object.
 */
public final class WeightVector {
  private final String name;
  private final float[] values; // (length)

  public WeightVector(String name, float[] values) {
    this.name = name;
    this.values = values.clone();
  }

  public String name() {
    return name;
  }

  public int length() {
    return values.length;
  }

  public float get(int i) {
    return values[i];
  }

  /** A copy of the values. */
  public float[] values() {
    return values.clone();
  }

  /** The values themselves, for the kernels of this package (never written). */
  float[] shared() {
    return values;
  }
}
