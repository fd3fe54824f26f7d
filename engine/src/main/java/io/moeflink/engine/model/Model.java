package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.checkpoint.Tensor;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dense (replicated) part of DeepSeek-V3, as DeepSeek's {@code Transformer}: the embedding,
 * the {@link TransformerBlock}s, the final norm and the LM head. The routed experts of the MoE
 * blocks live in {@link io.moeflink.engine.moe.ExpertShard}s on the other side of the seam.
 *
 * <p>Weights are immutable and shared by all sequences; per-sequence state is a {@link
 * LatentKvCache}, per-pass state the pass's own buffers.
 */
public final class Model implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Model.class);

  private final ModelConfig config;
  private final Checkpoint checkpoint;
  private final KernelBackend kernels;
  private final Tensor embedding; // (V, D)
  private final TransformerBlock[] blocks;
  private final RmsNorm finalNorm; // (D)
  private final WeightMatrix lmHead; // (V, D)
  private final MtpModule mtp; // null unless loaded for speculative decoding
  private final RotaryEmbedding rope;
  private final int largestDenseIntermediate;

  private Model(
      ModelConfig config, Checkpoint checkpoint, KernelBackend kernels, Tensor embedding, TransformerBlock[] blocks,
      RmsNorm finalNorm, WeightMatrix lmHead, MtpModule mtp) {
    this.config = config;
    this.mtp = mtp;
    this.checkpoint = checkpoint;
    this.kernels = kernels;
    this.embedding = embedding;
    this.blocks = blocks;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.rope = RotaryEmbedding.of(config);
    int widest = 0;
    java.util.List<TransformerBlock> all = new java.util.ArrayList<>(java.util.List.of(blocks));
    if (mtp != null) {
      all.add(mtp.block());
    }
    for (TransformerBlock b : all) {
      FeedForward ffn = b.feedForward();
      widest = Math.max(widest, ffn instanceof Mlp mlp ? mlp.intermediateSize()
          : ((MixtureOfExperts) ffn).sharedIntermediateSize());
    }
    this.largestDenseIntermediate = widest;
  }

  /**
   * Opens a Hugging Face DeepSeek-V3 directory, checks that its tensors are exactly the ones the
   * config implies (layers past {@code num_hidden_layers}, the MTP module, are ignored) and maps
   * the dense weights. The model owns the checkpoint it opened.
   */
  public static Model load(Path dir, KernelBackend kernels) throws IOException {
    return load(dir, kernels, false);
  }

  /** As {@link #load(Path, KernelBackend)}; with {@code mtp} also the MTP module, for speculative decoding. */
  public static Model load(Path dir, KernelBackend kernels, boolean mtp) throws IOException {
    ModelConfig config = ModelConfig.load(dir);
    Checkpoint ck = Checkpoint.open(dir);
    try {
      return open(config, ck, kernels, dir.toString(), mtp);
    } catch (RuntimeException e) {
      ck.close();
      throw e;
    }
  }

  /**
   * The model of an already opened checkpoint and its config (loaded once per subtask); closing
   * the model closes the checkpoint.
   */
  public static Model open(ModelConfig config, Checkpoint ck, KernelBackend kernels, String source) {
    return open(config, ck, kernels, source, false);
  }

  /**
   * As {@link #open(ModelConfig, Checkpoint, KernelBackend, String)}; with {@code mtp} also the MTP
   * module (layer {@code num_hidden_layers}), which must then be in the checkpoint.
   */
  public static Model open(ModelConfig config, Checkpoint ck, KernelBackend kernels, String source, boolean mtp) {
    long start = System.nanoTime();
    ck.requireExactly(TensorNames.expected(config, ck), config.numHiddenLayers());
    TransformerBlock[] blocks = new TransformerBlock[config.numHiddenLayers()];
    for (int l = 0; l < blocks.length; l++) {
      blocks[l] = TransformerBlock.load(ck, config, l);
    }
    Tensor embedding = ck.tensor("model.embed_tokens.weight", config.vocabSize(), config.hiddenSize());
    RmsNorm finalNorm = RmsNorm.load(ck, "model.norm.weight", config.hiddenSize(), config.rmsNormEps());
    WeightMatrix head = WeightMatrix.load(ck, "lm_head.weight", config.vocabSize(), config.hiddenSize());
    MtpModule module = null;
    if (mtp) {
      if (!MtpModule.present(ck, config)) {
        throw new CheckpointException("Speculative decoding with MTP needs the MTP module, but " + source + " has no "
            + TensorNames.mtp(config, "eh_proj.weight") + " (num_nextn_predict_layers 0?); leave --speculative out");
      }
      ck.requirePresent(TensorNames.expectedMtp(config, ck), "the MTP module");
      module = MtpModule.load(ck, config);
    }
    Model model = new Model(config, ck, kernels, embedding, blocks, finalNorm, head, module);
    LOG.info("Loaded {} model from {} in {} ms: {}; backend {} with {} threads", config.family(), source,
        (System.nanoTime() - start) / 1_000_000, config.summary(), kernels.name(), kernels.threads());
    return model;
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

  /** A new, empty cache for one sequence, on this model's backend (with the MTP module's layer when loaded). */
  public LatentKvCache newCache() {
    return new LatentKvCache(config, kernels, config.numHiddenLayers() + (mtp != null ? 1 : 0));
  }

  /** Whether the MTP module is loaded: speculative decoding can draft with it. */
  public boolean hasMtp() {
    return mtp != null;
  }

  /** The MTP module, or null. */
  MtpModule mtp() {
    return mtp;
  }

  TransformerBlock block(int i) {
    return blocks[i];
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

  /** The widest hidden layer of a dense MLP or shared-expert block: the pass's scratch width. */
  int largestDenseIntermediate() {
    return largestDenseIntermediate;
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

  /**
   * Prepares every dense weight this model's passes read (and the MTP module's, when loaded) for
   * its backend now ({@link KernelBackend#prepare}), in parallel: a server does this before its
   * first request, so that no step pays for laying out the weights it meets first.
   */
  public void prepareWeights() {
    List<WeightMatrix> weights = passWeights();
    if (mtp != null) {
      weights.addAll(mtp.weights());
    }
    kernels.prepare(weights);
  }

  /** Bytes of dense weights one decode step reads for one token, excluding routed experts. */
  public long denseBytesPerStep() {
    return WeightMatrix.bytes(passWeights());
  }

  /** The dense weights a pass reads: every block's, routed experts excluded, and the LM head. */
  private List<WeightMatrix> passWeights() {
    List<WeightMatrix> weights = new ArrayList<>();
    for (TransformerBlock block : blocks) {
      weights.addAll(block.weights());
    }
    weights.add(lmHead);
    return weights;
  }

  /** Bytes of weights one draft step of the MTP module reads for one token, routed experts excluded; 0 without it. */
  public long mtpBytesPerStep() {
    return mtp == null ? 0 : mtp.bytes() + lmHead.bytes();
  }

  @Override
  public void close() {
    checkpoint.close();
  }
}
