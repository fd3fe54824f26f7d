package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.RowLayout;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.ArrayList;
import java.util.List;

/**
 * DeepSeek-V3's multi-token prediction module (V3 report section 2.2), depth 1, stored as layer
 * {@code num_hidden_layers}: at position {@code i} it combines the main model's final, normed
 * hidden state {@code h_i} with the embedding of the next token {@code t_(i+1)},
 * {@code x_i = eh_proj([enorm(embed(t_(i+1))); hnorm(h_i)])}, runs one full transformer block
 * (MLA with its own latent cache, and a mixture of experts) over the positions causally, and
 * predicts {@code t_(i+2)} with {@code shared_head.norm} and the output head. The embedding and
 * the output head are the main model's: the report shares them, and the checkpoint's copies under
 * the module's layer are equal to them.
 */
final class MtpModule {
  private final int layer;
  private final RmsNorm embeddingNorm; // enorm (D)
  private final RmsNorm hiddenNorm; // hnorm (D)
  private final WeightMatrix projection; // eh_proj (D, 2D)
  private final TransformerBlock block;
  private final RmsNorm headNorm; // shared_head.norm (D)

  private MtpModule(int layer, RmsNorm embeddingNorm, RmsNorm hiddenNorm, WeightMatrix projection,
      TransformerBlock block, RmsNorm headNorm) {
    this.layer = layer;
    this.embeddingNorm = embeddingNorm;
    this.hiddenNorm = hiddenNorm;
    this.projection = projection;
    this.block = block;
    this.headNorm = headNorm;
  }

  /** Whether {@code ck} holds an MTP module after the main layers. */
  static boolean present(Checkpoint ck, ModelConfig c) {
    return ck.contains(TensorNames.mtp(c, "eh_proj.weight"));
  }

  static MtpModule load(Checkpoint ck, ModelConfig c) {
    int d = c.hiddenSize();
    double eps = c.rmsNormEps();
    int layer = c.numHiddenLayers();
    return new MtpModule(layer,
        RmsNorm.load(ck, TensorNames.mtp(c, "enorm.weight"), d, eps),
        RmsNorm.load(ck, TensorNames.mtp(c, "hnorm.weight"), d, eps),
        WeightMatrix.load(ck, TensorNames.mtp(c, "eh_proj.weight"), d, 2 * d),
        TransformerBlock.load(ck, c, layer),
        RmsNorm.load(ck, TensorNames.mtp(c, "shared_head.norm.weight"), d, eps));
  }

  /** The layer index of the module: its latent cache layer and its experts' layer. */
  int layer() {
    return layer;
  }

  TransformerBlock block() {
    return block;
  }

  RmsNorm headNorm() {
    return headNorm;
  }

  /**
   * The block's input for {@code rows} rows: {@code x = eh_proj([enorm(embedded); hnorm(hidden)])},
   * both operands (rows, D), into {@code x} (rows, D).
   */
  void input(KernelBackend k, Activations embedded, Activations hidden, int rows, Activations x) {
    int d = embeddingNorm.dim();
    try (Activations joined = k.allocate(rows * 2 * d)) { // (rows, 2D)
      RowLayout in = RowLayout.packed(d);
      k.rmsNorm(embedded, in, rows, embeddingNorm.weight(), embeddingNorm.eps(), joined, new RowLayout(0, 2 * d));
      k.rmsNorm(hidden, in, rows, hiddenNorm.weight(), hiddenNorm.eps(), joined, new RowLayout(d, 2 * d));
      k.matmul(projection, joined, rows, x);
    }
  }

  /** The weights one draft step reads, routed experts excluded. */
  List<WeightMatrix> weights() {
    List<WeightMatrix> weights = new ArrayList<>(block.weights());
    weights.add(projection);
    return weights;
  }

  /** Bytes of weights one draft step reads, routed experts excluded. */
  long bytes() {
    return WeightMatrix.bytes(weights());
  }
}
