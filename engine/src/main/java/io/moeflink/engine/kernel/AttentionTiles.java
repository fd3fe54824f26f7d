package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import jdk.incubator.vector.FloatVector;

/**
 * MLA's absorbed attention for one token row and up to four of its heads at a time, in the order
 * of {@link CpuBackend#latentAttention}: each score one two-segment {@link Dot16} (the latent, then
 * the rotary key), the softmax in position order, each output a fused multiply-add chain over the
 * positions. The heads of a row share every cached position's loads, so the cache is read once
 * per four heads, and the scores of four heads and two positions run as eight independent chains
 * (one chain alone waits on its FMA latency); the bits are the scalar loop's.
 */
final class AttentionTiles {
  private static final int HEADS = 4;
  private static final ThreadLocal<float[][]> SCORES = ThreadLocal.withInitial(() -> new float[HEADS][0]);

  private AttentionTiles() {}

  /**
   * Heads {@code [h0, h0 + n)} of row {@code i}: scores over positions {@code 0 .. length - 1},
   * softmax, weighted sum of the latents into {@code out}.
   */
  static void heads(
      float[] qLatent, float[] q, HeadLayout ropeAt, int heads, int rank, int ropeDim,
      float scale, float[] latents, float[] ropeKeys, int length, int i, int h0, int n, float[] out) {
    float[][] scores = SCORES.get();
    for (int j = 0; j < n; j++) {
      if (scores[j].length < length) {
        scores[j] = new float[Math.max(length, 2 * scores[j].length)];
      }
    }
    int[] ql = new int[HEADS]; // each head's query latent, then its rotary query
    int[] qr = new int[HEADS];
    for (int j = 0; j < HEADS; j++) {
      int h = h0 + Math.min(j, n - 1); // a missing head repeats the last; its scores are dropped
      ql[j] = (i * heads + h) * rank;
      qr[j] = ropeAt.at(i, h, 0);
    }
    float[] dots = new float[2 * HEADS]; // (head, position)
    float[] tmp = new float[128]; // Dot16's chains between its two segments
    int step = L == 16 ? 2 : 1;
    for (int t = 0; t < length; t += step) {
      int t1 = Math.min(t + 1, length - 1); // past the end: the last position again, dropped
      if (step == 2) {
        Dot16.tile16(qLatent, ql, latents, t * rank, t1 * rank, rank, q, qr, ropeKeys, t * ropeDim, t1 * ropeDim,
            ropeDim, dots, tmp);
      } else {
        Dot16.tile8(qLatent, ql, latents, t * rank, rank, q, qr, ropeKeys, t * ropeDim, ropeDim, dots, tmp);
      }
      for (int j = 0; j < n; j++) {
        scores[j][t] = dots[2 * j] * scale;
        if (step == 2 && t + 1 < length) {
          scores[j][t + 1] = dots[2 * j + 1] * scale;
        }
      }
    }
    for (int j = 0; j < n; j++) {
      float[] s = scores[j];
      float max = Float.NEGATIVE_INFINITY;
      for (int t = 0; t < length; t++) {
        max = Math.max(max, s[t]);
      }
      float sum = 0f;
      for (int t = 0; t < length; t++) {
        s[t] = (float) Math.exp(s[t] - max);
        sum += s[t];
      }
      for (int t = 0; t < length; t++) {
        s[t] = s[t] / sum;
      }
    }
    weightedSum(scores, n, latents, rank, length, out, (i * heads + h0) * rank);
  }

  /**
   * {@code out[j][c] = sum_t p[j][t] * latents[t][c]} for heads {@code j < n} (rows {@code rank}
   * apart from {@code o}), each element a chain of fused multiply-adds over {@code t} in order;
   * the heads share each position's latent loads.
   */
  private static void weightedSum(
      float[][] p, int n, float[] latents, int rank, int length, float[] out, int o) {
    int lanes = L;
    int c = 0;
    for (; c + lanes <= rank; c += lanes) {
      FloatVector a0 = FloatVector.zero(F);
      FloatVector a1 = a0;
      FloatVector a2 = a0;
      FloatVector a3 = a0;
      float[] p0 = p[0];
      float[] p1 = n > 1 ? p[1] : p0;
      float[] p2 = n > 2 ? p[2] : p0;
      float[] p3 = n > 3 ? p[3] : p0;
      for (int t = 0; t < length; t++) {
        FloatVector v = FloatVector.fromArray(F, latents, t * rank + c);
        a0 = v.fma(FloatVector.broadcast(F, p0[t]), a0);
        a1 = v.fma(FloatVector.broadcast(F, p1[t]), a1);
        a2 = v.fma(FloatVector.broadcast(F, p2[t]), a2);
        a3 = v.fma(FloatVector.broadcast(F, p3[t]), a3);
      }
      a0.intoArray(out, o + c);
      if (n > 1) {
        a1.intoArray(out, o + rank + c);
      }
      if (n > 2) {
        a2.intoArray(out, o + 2 * rank + c);
      }
      if (n > 3) {
        a3.intoArray(out, o + 3 * rank + c);
      }
    }
    // remaining columns: the same chain per element
    for (; c < rank; c++) {
      for (int j = 0; j < n; j++) {
        float acc = 0f;
        for (int t = 0; t < length; t++) {
          acc = Math.fma(p[j][t], latents[t * rank + c], acc);
        }
        out[o + j * rank + c] = acc;
      }
    }
  }
}
