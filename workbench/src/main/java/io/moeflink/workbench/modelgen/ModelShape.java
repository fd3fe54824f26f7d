package io.moeflink.workbench.modelgen;

/**
 * The shape of a DeepSeek-V3 model: every {@code DeepseekV3Config} value that decides which tensors
 * exist and how large they are, plus the rope and routing settings written to {@code config.json}.
 * Field names follow the config keys in camelCase.
 *
 * <p>Build one from a preset ({@code ModelPreset.TINY.shape().toBuilder().qLoraRank(0).build()}) or
 * from {@link #builder()}, which starts at the tiny preset's values. The constructor checks the
 * constraints the reference model relies on, so an invalid shape fails here rather than in a
 * reader.
 *
 * @param vocabSize rows of the embedding and of the LM head
 * @param hiddenSize model width {@code D}
 * @param intermediateSize width of the dense MLPs (layers below {@code firstKDenseReplace})
 * @param moeIntermediateSize width of one routed expert; a shared expert block is {@code
 *     nSharedExperts} times wider
 * @param numHiddenLayers transformer blocks
 * @param firstKDenseReplace leading blocks with a dense MLP instead of a mixture of experts
 * @param numAttentionHeads attention heads {@code H}
 * @param qLoraRank query latent rank; 0 selects the {@code q_proj} path ({@code q_lora_rank: null})
 * @param kvLoraRank key/value latent rank
 * @param qkNopeHeadDim per-head query/key width without rotary embedding
 * @param qkRopeHeadDim per-head query/key width with rotary embedding (even: rotated in pairs)
 * @param vHeadDim per-head value width
 * @param nRoutedExperts routed experts per MoE layer
 * @param nSharedExperts shared experts per MoE layer, stored as one MLP
 * @param numExpertsPerTok routed experts each token uses
 * @param nGroup expert groups (contiguous blocks of experts)
 * @param topkGroup groups kept per token
 * @param routedScalingFactor multiplier on the normalised routing weights
 * @param maxPositionEmbeddings context length the model declares
 * @param ropeTheta rotary base
 * @param ropeScaling YaRN settings, or {@code null} for plain RoPE ({@code rope_scaling: null})
 */
public record ModelShape(
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int moeIntermediateSize,
    int numHiddenLayers,
    int firstKDenseReplace,
    int numAttentionHeads,
    int qLoraRank,
    int kvLoraRank,
    int qkNopeHeadDim,
    int qkRopeHeadDim,
    int vHeadDim,
    int nRoutedExperts,
    int nSharedExperts,
    int numExpertsPerTok,
    int nGroup,
    int topkGroup,
    double routedScalingFactor,
    int maxPositionEmbeddings,
    double ropeTheta,
    Yarn ropeScaling) {

  /**
   * The {@code rope_scaling} block of type {@code yarn}.
   *
   * @param factor context extension factor {@code s}
   * @param originalMaxPositionEmbeddings context length the frequencies were trained for
   * @param betaFast fast correction bound (32 in DeepSeek-V3)
   * @param betaSlow slow correction bound (1 in DeepSeek-V3)
   * @param mscale HF's cos/sin scale key; DeepSeek's reference ignores it
   * @param mscaleAllDim the attention-scale key the reference uses, squared
   */
  public record Yarn(
      double factor,
      int originalMaxPositionEmbeddings,
      double betaFast,
      double betaSlow,
      double mscale,
      double mscaleAllDim) {

    public Yarn {
      if (!(factor >= 1)) {
        throw new IllegalArgumentException("rope_scaling.factor is " + factor + ", must be >= 1");
      }
      if (originalMaxPositionEmbeddings <= 0) {
        throw new IllegalArgumentException(
            "rope_scaling.original_max_position_embeddings is "
                + originalMaxPositionEmbeddings
                + ", must be positive");
      }
      if (!(betaFast > 0 && betaSlow > 0)) {
        throw new IllegalArgumentException(
            "rope_scaling.beta_fast and beta_slow must be positive, got "
                + betaFast
                + " and "
                + betaSlow);
      }
    }

    /** DeepSeek-V3's settings (beta 32/1, mscale 1) for another factor and original length. */
    public static Yarn of(double factor, int originalMaxPositionEmbeddings) {
      return new Yarn(factor, originalMaxPositionEmbeddings, 32, 1, 1, 1);
    }
  }

  public ModelShape {
    requirePositive("vocab_size", vocabSize);
    requirePositive("hidden_size", hiddenSize);
    requirePositive("num_hidden_layers", numHiddenLayers);
    requirePositive("num_attention_heads", numAttentionHeads);
    requirePositive("kv_lora_rank", kvLoraRank);
    requirePositive("qk_nope_head_dim", qkNopeHeadDim);
    requirePositive("qk_rope_head_dim", qkRopeHeadDim);
    requirePositive("v_head_dim", vHeadDim);
    requirePositive("max_position_embeddings", maxPositionEmbeddings);
    if (qLoraRank < 0) {
      throw new IllegalArgumentException(
          "q_lora_rank is " + qLoraRank + ", must be positive, or 0 for the q_proj path");
    }
    if (qkRopeHeadDim % 2 != 0) {
      throw new IllegalArgumentException(
          "qk_rope_head_dim is " + qkRopeHeadDim + ", must be even (RoPE rotates pairs)");
    }
    if (firstKDenseReplace < 0 || firstKDenseReplace > numHiddenLayers) {
      throw new IllegalArgumentException(
          "first_k_dense_replace is "
              + firstKDenseReplace
              + ", must be in [0, num_hidden_layers = "
              + numHiddenLayers
              + "]");
    }
    if (firstKDenseReplace > 0) {
      requirePositive("intermediate_size", intermediateSize);
    }
    if (firstKDenseReplace < numHiddenLayers) {
      checkExperts(
          moeIntermediateSize,
          nRoutedExperts,
          nSharedExperts,
          numExpertsPerTok,
          nGroup,
          topkGroup,
          routedScalingFactor);
    }
    if (!(ropeTheta > 0)) {
      throw new IllegalArgumentException("rope_theta is " + ropeTheta + ", must be positive");
    }
  }

  /** A builder at the tiny preset's values. */
  public static Builder builder() {
    return ModelPreset.TINY.shape().toBuilder();
  }

  /** A builder at this shape's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Whether queries go through a low-rank latent ({@code q_a_proj}, {@code q_b_proj}). */
  public boolean hasQueryLora() {
    return qLoraRank > 0;
  }

  /** Number of blocks whose MLP is a mixture of experts. */
  public int moeLayers() {
    return numHiddenLayers - firstKDenseReplace;
  }

  /** Every weight element of the model (FP8 scales are not parameters). */
  public long parameterCount() {
    return CheckpointPlan.of(this, WeightFormat.BF16).parameterCount();
  }

  /**
   * Parameters one token's forward pass multiplies with: all but the embedding table (one row is
   * read) and the routed experts it is not sent to. This is the figure DeepSeek quotes as
   * "activated" parameters.
   */
  public long activeParameterCount() {
    long oneExpert = Math.multiplyExact(3L * moeIntermediateSize, hiddenSize);
    long idleExperts =
        Math.multiplyExact((long) moeLayers() * (nRoutedExperts - numExpertsPerTok), oneExpert);
    long embedding = (long) vocabSize * hiddenSize;
    return parameterCount() - embedding - idleExperts;
  }

  private static void checkExperts(
      int moeIntermediateSize,
      int nRoutedExperts,
      int nSharedExperts,
      int numExpertsPerTok,
      int nGroup,
      int topkGroup,
      double routedScalingFactor) {
    requirePositive("moe_intermediate_size", moeIntermediateSize);
    requirePositive("n_routed_experts", nRoutedExperts);
    requirePositive("n_group", nGroup);
    if (nSharedExperts < 1) {
      throw new IllegalArgumentException(
          "n_shared_experts is " + nSharedExperts + ", must be at least 1 (DeepSeek-V3 has one)");
    }
    if (nRoutedExperts % nGroup != 0 || nRoutedExperts / nGroup < 2) {
      throw new IllegalArgumentException(
          "n_routed_experts "
              + nRoutedExperts
              + " must split into n_group "
              + nGroup
              + " equal groups of at least 2 experts (a group scores by its top-2 experts)");
    }
    if (topkGroup < 1 || topkGroup > nGroup) {
      throw new IllegalArgumentException(
          "topk_group is " + topkGroup + ", must be in [1, n_group = " + nGroup + "]");
    }
    int selectable = topkGroup * (nRoutedExperts / nGroup);
    if (numExpertsPerTok < 1 || numExpertsPerTok > selectable) {
      throw new IllegalArgumentException(
          "num_experts_per_tok is "
              + numExpertsPerTok
              + ", must be in [1, "
              + selectable
              + "] (the experts in topk_group kept groups)");
    }
    if (!(routedScalingFactor > 0)) {
      throw new IllegalArgumentException(
          "routed_scaling_factor is " + routedScalingFactor + ", must be positive");
    }
  }

  private static void requirePositive(String key, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " is " + value + ", must be positive");
    }
  }

  /** Changes some values of a shape; {@link #build()} validates the result. */
  public static final class Builder {
    private int vocabSize;
    private int hiddenSize;
    private int intermediateSize;
    private int moeIntermediateSize;
    private int numHiddenLayers;
    private int firstKDenseReplace;
    private int numAttentionHeads;
    private int qLoraRank;
    private int kvLoraRank;
    private int qkNopeHeadDim;
    private int qkRopeHeadDim;
    private int vHeadDim;
    private int nRoutedExperts;
    private int nSharedExperts;
    private int numExpertsPerTok;
    private int nGroup;
    private int topkGroup;
    private double routedScalingFactor;
    private int maxPositionEmbeddings;
    private double ropeTheta;
    private Yarn ropeScaling;

    private Builder(ModelShape s) {
      vocabSize = s.vocabSize;
      hiddenSize = s.hiddenSize;
      intermediateSize = s.intermediateSize;
      moeIntermediateSize = s.moeIntermediateSize;
      numHiddenLayers = s.numHiddenLayers;
      firstKDenseReplace = s.firstKDenseReplace;
      numAttentionHeads = s.numAttentionHeads;
      qLoraRank = s.qLoraRank;
      kvLoraRank = s.kvLoraRank;
      qkNopeHeadDim = s.qkNopeHeadDim;
      qkRopeHeadDim = s.qkRopeHeadDim;
      vHeadDim = s.vHeadDim;
      nRoutedExperts = s.nRoutedExperts;
      nSharedExperts = s.nSharedExperts;
      numExpertsPerTok = s.numExpertsPerTok;
      nGroup = s.nGroup;
      topkGroup = s.topkGroup;
      routedScalingFactor = s.routedScalingFactor;
      maxPositionEmbeddings = s.maxPositionEmbeddings;
      ropeTheta = s.ropeTheta;
      ropeScaling = s.ropeScaling;
    }

    public Builder vocabSize(int value) {
      vocabSize = value;
      return this;
    }

    public Builder hiddenSize(int value) {
      hiddenSize = value;
      return this;
    }

    public Builder intermediateSize(int value) {
      intermediateSize = value;
      return this;
    }

    public Builder moeIntermediateSize(int value) {
      moeIntermediateSize = value;
      return this;
    }

    public Builder numHiddenLayers(int value) {
      numHiddenLayers = value;
      return this;
    }

    public Builder firstKDenseReplace(int value) {
      firstKDenseReplace = value;
      return this;
    }

    public Builder numAttentionHeads(int value) {
      numAttentionHeads = value;
      return this;
    }

    /** 0 selects the {@code q_proj} path. */
    public Builder qLoraRank(int value) {
      qLoraRank = value;
      return this;
    }

    public Builder kvLoraRank(int value) {
      kvLoraRank = value;
      return this;
    }

    public Builder qkNopeHeadDim(int value) {
      qkNopeHeadDim = value;
      return this;
    }

    public Builder qkRopeHeadDim(int value) {
      qkRopeHeadDim = value;
      return this;
    }

    public Builder vHeadDim(int value) {
      vHeadDim = value;
      return this;
    }

    public Builder nRoutedExperts(int value) {
      nRoutedExperts = value;
      return this;
    }

    public Builder nSharedExperts(int value) {
      nSharedExperts = value;
      return this;
    }

    public Builder numExpertsPerTok(int value) {
      numExpertsPerTok = value;
      return this;
    }

    public Builder nGroup(int value) {
      nGroup = value;
      return this;
    }

    public Builder topkGroup(int value) {
      topkGroup = value;
      return this;
    }

    public Builder routedScalingFactor(double value) {
      routedScalingFactor = value;
      return this;
    }

    public Builder maxPositionEmbeddings(int value) {
      maxPositionEmbeddings = value;
      return this;
    }

    public Builder ropeTheta(double value) {
      ropeTheta = value;
      return this;
    }

    /** {@code null} writes {@code rope_scaling: null} (plain RoPE). */
    public Builder ropeScaling(Yarn value) {
      ropeScaling = value;
      return this;
    }

    public ModelShape build() {
      return new ModelShape(
          vocabSize,
          hiddenSize,
          intermediateSize,
          moeIntermediateSize,
          numHiddenLayers,
          firstKDenseReplace,
          numAttentionHeads,
          qLoraRank,
          kvLoraRank,
          qkNopeHeadDim,
          qkRopeHeadDim,
          vHeadDim,
          nRoutedExperts,
          nSharedExperts,
          numExpertsPerTok,
          nGroup,
          topkGroup,
          routedScalingFactor,
          maxPositionEmbeddings,
          ropeTheta,
          ropeScaling);
    }
  }
}
