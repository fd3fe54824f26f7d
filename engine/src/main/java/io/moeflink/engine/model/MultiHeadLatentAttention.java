package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;

/**
 * Multi-head latent attention (DeepSeek-V2 paper, section 2.1) in the absorbed form: the key
 * up-projection is folded into the query ({@code q~_h = W_kvb[h, :dn]^T q_nope_h}) and the value
 * up-projection applied after the weighted sum of latents, so the cache holds only the latent
 * {@code c} and the shared rotary key {@code k_pe}.
 *
 * <p>Every query row, prefill or decode, runs the same loop over its cached positions {@code t <=
 * p}, which makes chunked prefill equal full prefill and re-prefill equal incremental decode.
 */
final class MultiHeadLatentAttention {
  private final ModelConfig config;
  private final int layer;
  private final WeightMatrix queryDown; // (qLoraRank, D), null on the q_proj path
  private final RmsNorm queryNorm; // (qLoraRank), null on the q_proj path
  private final WeightMatrix queryUp; // (H*(dn+dr), qLoraRank) or q_proj (H*(dn+dr), D)
  private final WeightMatrix kvDown; // (kvLoraRank + dr, D)
  private final RmsNorm kvNorm; // (kvLoraRank): the latent only, never k_pe (trap 6)
  private final WeightMatrix[] keyUpTransposed; // per head (kvLoraRank, dn): W_kvb[h, :dn]^T, BF16 or F32
  private final WeightMatrix[] valueUp; // per head (dv, kvLoraRank): rows of kv_b_proj
  private final WeightMatrix output; // (D, H*dv)
  private final float softmaxScale;

  private MultiHeadLatentAttention(
      ModelConfig config, int layer, WeightMatrix queryDown, RmsNorm queryNorm, WeightMatrix queryUp,
      WeightMatrix kvDown, RmsNorm kvNorm, WeightMatrix[] keyUpTransposed, WeightMatrix[] valueUp,
      WeightMatrix output) {
    this.config = config;
    this.layer = layer;
    this.queryDown = queryDown;
    this.queryNorm = queryNorm;
    this.queryUp = queryUp;
    this.kvDown = kvDown;
    this.kvNorm = kvNorm;
    this.keyUpTransposed = keyUpTransposed;
    this.valueUp = valueUp;
    this.output = output;
    this.softmaxScale = (float) config.softmaxScale();
  }

  static MultiHeadLatentAttention load(Checkpoint ck, ModelConfig c, int layer) {
    int d = c.hiddenSize();
    int heads = c.numHeads();
    int qDim = heads * c.qkHeadDim();
    WeightMatrix qa = null;
    RmsNorm qNorm = null;
    WeightMatrix qb;
    if (c.hasQueryLora()) {
      qa = WeightMatrix.load(ck, TensorNames.attention(layer, "q_a_proj.weight"), c.qLoraRank(), d);
      qNorm = RmsNorm.load(ck, TensorNames.attention(layer, "q_a_layernorm.weight"), c.qLoraRank(), c.rmsNormEps());
      qb = WeightMatrix.load(ck, TensorNames.attention(layer, "q_b_proj.weight"), qDim, c.qLoraRank());
    } else {
      qb = WeightMatrix.load(ck, TensorNames.attention(layer, "q_proj.weight"), qDim, d);
    }
    int rank = c.kvLoraRank();
    WeightMatrix kva = WeightMatrix.load(ck, TensorNames.attention(layer, "kv_a_proj_with_mqa.weight"), rank + c.qkRopeHeadDim(), d);
    RmsNorm kvNorm = RmsNorm.load(ck, TensorNames.attention(layer, "kv_a_layernorm.weight"), rank, c.rmsNormEps());
    int perHead = c.qkNopeHeadDim() + c.vHeadDim();
    WeightMatrix kvb = WeightMatrix.load(ck, TensorNames.attention(layer, "kv_b_proj.weight"), heads * perHead, rank);
    WeightMatrix[] keyUpT = new WeightMatrix[heads];
    WeightMatrix[] valueUp = new WeightMatrix[heads];
    int dn = c.qkNopeHeadDim();
    for (int h = 0; h < heads; h++) {
      // (kvLoraRank, dn): transposed once at load so the absorption is an ordinary matmul; BF16
      // stays BF16 (half the bytes and the fast kernels), FP8 becomes F32
      keyUpT[h] = kvb.transposedRows(kvb.name() + "[head " + h + " key]^T", h * perHead, dn);
      valueUp[h] = kvb.rows(h * perHead + dn, c.vHeadDim());
    }
    WeightMatrix wo = WeightMatrix.load(ck, TensorNames.attention(layer, "o_proj.weight"), d, heads * c.vHeadDim());
    return new MultiHeadLatentAttention(c, layer, qa, qNorm, qb, kva, kvNorm, keyUpT, valueUp, wo);
  }

  /**
   * Attention for {@code n} token rows; each row's (c, k_pe) is written to its sequence's cache at
   * its position before any row attends.
   *
   * @param x (n, D) normalised hidden states
   * @param angles per row, the rotary angles of its position
   * @return (n, D)
   */
  float[] forward(KernelBackend k, float[] x, int n, int[] positions, LatentKvCache[] caches, RotaryEmbedding.Angles[] angles) {
    int heads = config.numHeads();
    int dn = config.qkNopeHeadDim();
    int dr = config.qkRopeHeadDim();
    int qkDim = config.qkHeadDim();
    int rank = config.kvLoraRank();
    int dv = config.vHeadDim();

    // query: (n, H*(dn+dr)), head-major [H][dn | dr] (trap 5)
    float[] q = new float[n * heads * qkDim];
    if (queryDown != null) {
      float[] qLatent = new float[n * config.qLoraRank()];
      k.matmul(queryDown, x, n, qLatent);
      k.matmul(queryUp, queryNorm.apply(qLatent, n), n, q);
    } else {
      k.matmul(queryUp, x, n, q);
    }

    // kv_a: (n, rank + dr) = [latent | k_pe]; normalise the latent, rotate k_pe, cache both
    float[] kva = new float[n * (rank + dr)];
    k.matmul(kvDown, x, n, kva);
    for (int i = 0; i < n; i++) {
      int p = positions[i];
      int o = i * (rank + dr);
      kvNorm.apply(kva, o, rank + dr, 1, caches[i].latent(layer), p * rank, rank);
      angles[i].rotate(kva, o + rank);
      System.arraycopy(kva, o + rank, caches[i].ropeKeys(layer), p * dr, dr);
    }

    // absorb the key up-projection into the query: qAbsorbed (H)(n, rank); rotate q_pe
    // (one task per head: the per-head matrices are too small to split by rows)
    float[][] qAbsorbed = new float[heads][n * rank];
    float[] qRope = new float[n * heads * dr]; // (n, H, dr)
    k.parallelFor(heads, h -> {
      float[] qNope = new float[n * dn]; // (n, dn) of head h
      for (int i = 0; i < n; i++) {
        int o = (i * heads + h) * qkDim;
        System.arraycopy(q, o, qNope, i * dn, dn);
        System.arraycopy(q, o + dn, qRope, (i * heads + h) * dr, dr);
        angles[i].rotate(qRope, (i * heads + h) * dr);
      }
      k.matmul(keyUpTransposed[h], qNope, n, qAbsorbed[h]);
    });

    // per (row, head): scores over t <= p, softmax, weighted sum of latents
    float[][] latentOut = new float[heads][n * rank]; // (H)(n, rank)
    k.parallelFor(n * heads, job -> attend(k, job / heads, job % heads, positions, caches, qAbsorbed, qRope, latentOut));

    // value up-projection per head, then the output projection: (n, H*dv) -> (n, D)
    float[] values = new float[n * heads * dv];
    k.parallelFor(heads, h -> {
      float[] headValues = new float[n * dv]; // (n, dv) of head h
      k.matmul(valueUp[h], latentOut[h], n, headValues);
      for (int i = 0; i < n; i++) {
        System.arraycopy(headValues, i * dv, values, (i * heads + h) * dv, dv);
      }
    });
    float[] out = new float[n * config.hiddenSize()];
    k.matmul(output, values, n, out);
    return out;
  }

  /** Bytes of projection weights one step reads. */
  long bytes() {
    long b = queryUp.bytes() + kvDown.bytes() + output.bytes();
    if (queryDown != null) {
      b += queryDown.bytes();
    }
    for (int h = 0; h < valueUp.length; h++) {
      b += valueUp[h].bytes() + keyUpTransposed[h].bytes();
    }
    return b;
  }

  private void attend(
      KernelBackend k, int i, int h, int[] positions, LatentKvCache[] caches, float[][] qAbsorbed, float[] qRope,
      float[][] latentOut) {
    int rank = config.kvLoraRank();
    int dr = config.qkRopeHeadDim();
    int heads = config.numHeads();
    int length = positions[i] + 1;
    float[] latents = caches[i].latent(layer);
    float[] ropeKeys = caches[i].ropeKeys(layer);
    float[] scores = new float[length];
    float max = Float.NEGATIVE_INFINITY;
    for (int t = 0; t < length; t++) {
      float s = k.dot(qAbsorbed[h], i * rank, latents, t * rank, rank)
          + k.dot(qRope, (i * heads + h) * dr, ropeKeys, t * dr, dr);
      scores[t] = s * softmaxScale;
      max = Math.max(max, scores[t]);
    }
    float sum = 0f;
    for (int t = 0; t < length; t++) {
      scores[t] = (float) Math.exp(scores[t] - max);
      sum += scores[t];
    }
    float[] out = latentOut[h];
    int o = i * rank;
    for (int t = 0; t < length; t++) {
      k.axpy(scores[t] / sum, latents, t * rank, out, o, rank);
    }
  }
}
