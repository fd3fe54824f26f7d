package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.Tensor;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dense (replicated) part of DeepSeek-V3: embedding, per layer MLA with its norms, the dense
 * MLP of the first {@code first_k_dense_replace} layers, the router and shared experts of MoE
 * layers, the final norm and the LM head. Routed experts live in {@link ExpertShard}s.
 *
 * <p>Weights are immutable and shared by all sequences; per-sequence state is a {@link
 * LatentKvCache}.
 */
public final class Model implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Model.class);

  private final ModelConfig config;
  private final Checkpoint checkpoint;
  private final KernelBackend kernels;
  private final Tensor embedding; // (V, D)
  private final Layer[] layers;
  private final RmsNorm finalNorm; // (D)
  private final WeightMatrix lmHead; // (V, D)
  private final RotaryEmbedding rope;

  /** One transformer block's dense weights. */
  record Layer(
      RmsNorm attentionNorm, MultiHeadLatentAttention attention, RmsNorm ffnNorm, Mlp denseMlp, Router router,
      Mlp sharedExperts) {}

  private Model(
      ModelConfig config, Checkpoint checkpoint, KernelBackend kernels, Tensor embedding, Layer[] layers,
      RmsNorm finalNorm, WeightMatrix lmHead) {
    this.config = config;
    this.checkpoint = checkpoint;
    this.kernels = kernels;
    this.embedding = embedding;
    this.layers = layers;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.rope = RotaryEmbedding.of(config);
  }

  /**
   * Opens a Hugging Face DeepSeek-V3 directory, checks that its tensors are exactly the ones the
   * config implies (layers past {@code num_hidden_layers}, the MTP module, are ignored) and maps
   * the dense weights.
   */
  public static Model load(Path dir, KernelBackend kernels) throws IOException {
    long start = System.nanoTime();
    ModelConfig config = ModelConfig.load(dir);
    Checkpoint ck = Checkpoint.open(dir);
    try {
      ck.requireExactly(TensorNames.expected(config, ck), config.numHiddenLayers());
      Model model = load(ck, config, kernels);
      LOG.info("Loaded {} from {} in {} ms: {}; backend {} with {} threads",
          "DeepSeek-V3 model", dir, (System.nanoTime() - start) / 1_000_000, config.summary(), kernels.name(),
          kernels.threads());
      return model;
    } catch (RuntimeException e) {
      ck.close();
      throw e;
    }
  }

  private static Model load(Checkpoint ck, ModelConfig c, KernelBackend kernels) {
    int d = c.hiddenSize();
    double eps = c.rmsNormEps();
    Layer[] layers = new Layer[c.numHiddenLayers()];
    for (int l = 0; l < layers.length; l++) {
      String p = TensorNames.layer(l);
      RmsNorm attnNorm = RmsNorm.load(ck, p + "input_layernorm.weight", d, eps);
      RmsNorm ffnNorm = RmsNorm.load(ck, p + "post_attention_layernorm.weight", d, eps);
      MultiHeadLatentAttention attn = MultiHeadLatentAttention.load(ck, c, l);
      if (c.isMoeLayer(l)) {
        Mlp shared = c.nSharedExperts() == 0 ? null
            : Mlp.load(ck, p + "mlp.shared_experts.", d, c.nSharedExperts() * c.moeIntermediateSize());
        layers[l] = new Layer(attnNorm, attn, ffnNorm, null, Router.load(ck, c, l), shared);
      } else {
        layers[l] = new Layer(attnNorm, attn, ffnNorm, Mlp.load(ck, p + "mlp.", d, c.intermediateSize()), null, null);
      }
    }
    Tensor embedding = ck.tensor("model.embed_tokens.weight", c.vocabSize(), d);
    RmsNorm finalNorm = RmsNorm.load(ck, "model.norm.weight", d, eps);
    WeightMatrix head = WeightMatrix.load(ck, "lm_head.weight", c.vocabSize(), d);
    return new Model(c, ck, kernels, embedding, layers, finalNorm, head);
  }

  public ModelConfig config() {
    return config;
  }

  public KernelBackend kernels() {
    return kernels;
  }

  /** The open checkpoint, for loading expert shards from the same files. */
  public Checkpoint checkpoint() {
    return checkpoint;
  }

  Layer layer(int i) {
    return layers[i];
  }

  RotaryEmbedding rope() {
    return rope;
  }

  RmsNorm finalNorm() {
    return finalNorm;
  }

  WeightMatrix lmHead() {
    return lmHead;
  }

  /** Writes token {@code token}'s embedding row into {@code h[offset ..]}. No scaling. */
  void embed(int token, float[] h, int offset) {
    if (token < 0 || token >= config.vocabSize()) {
      throw new IllegalArgumentException("Token id " + token + " is outside the vocabulary 0.." + (config.vocabSize() - 1));
    }
    long base = (long) token * config.hiddenSize();
    for (int i = 0; i < config.hiddenSize(); i++) {
      h[offset + i] = embedding.getFloat(base + i);
    }
  }

  /** Bytes of dense weights one decode step reads for one token, excluding routed experts. */
  public long denseBytesPerStep() {
    long bytes = lmHead.bytes();
    for (Layer layer : layers) {
      bytes += layer.attention().bytes();
      if (layer.denseMlp() != null) {
        bytes += layer.denseMlp().bytes();
      }
      if (layer.router() != null) {
        bytes += layer.router().bytes();
      }
      if (layer.sharedExperts() != null) {
        bytes += layer.sharedExperts().bytes();
      }
    }
    return bytes;
  }

  @Override
  public void close() {
    checkpoint.close();
  }
}
