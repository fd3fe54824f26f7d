package io.moeflink.engine.model;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.config.YarnScaling;

/**
 * Rotary position embedding on INTERLEAVED pairs {@code (x[2i], x[2i+1])} (trap 4; not Llama's
 * half split), with YaRN frequency interpolation whenever the config asks for it (trap 7).
 * Frequencies and angles are computed in float32, as the reference does.
 */
public final class RotaryEmbedding {
  private final float[] inverseFrequencies; // (dr / 2)

  RotaryEmbedding(float[] inverseFrequencies) {
    this.inverseFrequencies = inverseFrequencies;
  }

  public static RotaryEmbedding of(ModelConfig config) {
    return new RotaryEmbedding(inverseFrequencies(config));
  }

  /** {@code f_i = 1 / theta^(2i/d)}, YaRN-corrected: low frequencies divided by the factor. */
  static float[] inverseFrequencies(ModelConfig config) {
    int d = config.qkRopeHeadDim();
    double theta = config.ropeTheta();
    float[] f = new float[d / 2];
    for (int i = 0; i < f.length; i++) {
      float exponent = (float) (2 * i) / (float) d;
      f[i] = 1f / (float) Math.pow(theta, exponent);
    }
    YarnScaling yarn = config.yarn();
    if (yarn == null || yarn.factor() <= 1) {
      return f;
    }
    int low = Math.max((int) Math.floor(correctionDim(yarn.betaFast(), d, theta, yarn.originalMaxPositions())), 0);
    int high = Math.min((int) Math.ceil(correctionDim(yarn.betaSlow(), d, theta, yarn.originalMaxPositions())), d - 1);
    float span = high == low ? 0.001f : (float) (high - low);
    float factor = (float) yarn.factor();
    for (int i = 0; i < f.length; i++) {
      float ramp = Math.min(1f, Math.max(0f, ((float) i - low) / span));
      float smooth = 1f - ramp;
      f[i] = f[i] / factor * (1f - smooth) + f[i] * smooth;
    }
    return f;
  }

  /** The dimension index whose wavelength fits {@code rotations} times into the original context. */
  private static double correctionDim(double rotations, int d, double theta, int originalPositions) {
    return d * Math.log(originalPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
  }

  /**
   * Writes one position's angles to {@code dst[offset ..]}: the {@code dr/2} cosines, then the
   * sines, the layout {@link io.moeflink.engine.kernel.KernelBackend#rotate} reads.
   */
  void angles(int position, float[] dst, int offset) {
    int pairs = inverseFrequencies.length;
    for (int i = 0; i < pairs; i++) {
      float angle = (float) position * inverseFrequencies[i];
      dst[offset + i] = (float) Math.cos(angle);
      dst[offset + pairs + i] = (float) Math.sin(angle);
    }
  }

  public float[] inverseFrequencies() {
    return inverseFrequencies.clone();
  }
}
