package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.CacheRows;
import io.moeflink.engine.kernel.HeadLayout;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.ArrayList;
import java.util.List;

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
  private final WeightMatrix queryDown; // (qLoraRank, D), null on the q_proj path
  private final RmsNorm queryNorm; // (qLoraRank), null on the q_proj path
  private final WeightMatrix queryUp; // (H*(dn+dr), qLoraRank) or q_proj (H*(dn+dr), D)
  private final WeightMatrix kvDown; // (kvLoraRank + dr, D)
  private final RmsNorm kvNorm; // (kvLoraRank): the latent only, never k_pe (trap 6)
  private final WeightMatrix[] keyUpTransposed; // per head (kvLoraRank, dn): W_kvb[h, :dn]^T, BF16 or F32
  private final WeightMatrix[] valueUp; // per head (dv, kvLoraRank): rows of kv_b_proj
  private final WeightMatrix output; // (D, H*dv)
  private final float softmaxScale;
  private final HeadLayout queryNope; // q_nope of each head inside the query rows
  private final HeadLayout queryRope; // q_pe of each head inside the query rows
  private final HeadLayout latentHeads; // (n, H, kvLoraRank)
  private final HeadLayout valueHeads; // (n, H, dv)

  private MultiHeadLatentAttention(
      ModelConfig config, WeightMatrix queryDown, RmsNorm queryNorm, WeightMatrix queryUp, WeightMatrix kvDown,
      RmsNorm kvNorm, WeightMatrix[] keyUpTransposed, WeightMatrix[] valueUp, WeightMatrix output) {
    this.config = config;
    this.queryDown = queryDown;
    this.queryNorm = queryNorm;
    this.queryUp = queryUp;
    this.kvDown = kvDown;
    this.kvNorm = kvNorm;
    this.keyUpTransposed = keyUpTransposed;
    this.valueUp = valueUp;
    this.output = output;
    this.softmaxScale = (float) config.softmaxScale();
    int heads = config.numHeads();
    int qk = config.qkHeadDim();
    this.queryNope = new HeadLayout(0, heads * qk, qk);
    this.queryRope = new HeadLayout(config.qkNopeHeadDim(), heads * qk, qk);
    this.latentHeads = HeadLayout.packed(heads, config.kvLoraRank());
    this.valueHeads = HeadLayout.packed(heads, config.vHeadDim());
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
    return new MultiHeadLatentAttention(c, qa, qNorm, qb, kva, kvNorm, keyUpT, valueUp, wo);
  }

  /**
   * Attention for the pass's token rows, from {@code b.normed} into {@code b.attnOut}; each row's
   * (c, k_pe) is written to its sequence's cache at its position before any row attends.
   */
  void forward(KernelBackend k, PassBuffers b, CacheRows cache) {
    int n = b.rows();
    int heads = config.numHeads();
    int rank = config.kvLoraRank();
    int dr = config.qkRopeHeadDim();

    // query: (n, H*(dn+dr)), head-major [H][dn | dr] (trap 5)
    if (queryDown != null) {
      k.matmul(queryDown, b.normed, n, b.queryLatent);
      queryNorm.apply(k, b.queryLatent, n, b.queryLatent);
      k.matmul(queryUp, b.queryLatent, n, b.query);
    } else {
      k.matmul(queryUp, b.normed, n, b.query);
    }

    // kv_a: (n, rank + dr) = [latent | k_pe]; normalise the latent, rotate k_pe, cache both
    k.matmul(kvDown, b.normed, n, b.kva);
    k.cacheLatents(b.kva, rank, dr, kvNorm.weight(), kvNorm.eps(), b.angles, cache);

    // rotate q_pe; absorb the key up-projection into the query: (n, H, rank)
    k.rotate(b.query, queryRope, heads, n, b.angles);
    k.matmulPerHead(keyUpTransposed, b.query, queryNope, n, b.queryAbsorbed, latentHeads);

    // per (row, head): scores over t <= p, softmax, weighted sum of latents
    k.latentAttention(b.queryAbsorbed, b.query, queryRope, heads, rank, dr, softmaxScale, cache, b.attended);

    // value up-projection per head, then the output projection: (n, H*dv) -> (n, D)
    k.matmulPerHead(valueUp, b.attended, latentHeads, n, b.values, valueHeads);
    k.matmul(output, b.values, n, b.attnOut);
  }

  /** The projection weights one step reads. */
  List<WeightMatrix> weights() {
    List<WeightMatrix> weights = new ArrayList<>(List.of(queryUp, kvDown, output));
    if (queryDown != null) {
      weights.add(queryDown);
    }
    weights.addAll(List.of(valueUp));
    weights.addAll(List.of(keyUpTransposed));
    return weights;
  }
}
