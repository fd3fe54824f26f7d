package io.moeflink.workbench.bench;

import io.moeflink.engine.config.ModelConfig;

/**
 * The floating-point operations a pass does, counted from the config (2 per multiply-add): the
 * projections of every layer for every token (MLA with its absorbed per-head projections, the
 * dense MLP or the router, shared experts and the {@code k} routed experts), the LM head for each
 * token that wants logits, and the absorbed attention, {@code 2 * (2 * kvLoraRank + dr)} per head
 * and cached position a row attends to. Norms, RoPE, softmax and the combine are left out (under
 * 1%).
 */
record FlopCount(ModelConfig config) {

  /** Projection FLOPs of one token through every layer, the LM head excluded. */
  long projectionsPerToken() {
    ModelConfig c = config;
    long d = c.hiddenSize();
    long heads = c.numHeads();
    long rank = c.kvLoraRank();
    long query = c.hasQueryLora() ? d * c.qLoraRank() + (long) c.qLoraRank() * heads * c.qkHeadDim()
        : d * heads * c.qkHeadDim();
    long attention = query + d * (rank + c.qkRopeHeadDim()) + heads * c.qkNopeHeadDim() * rank
        + heads * rank * c.vHeadDim() + heads * c.vHeadDim() * d;
    long macs = 0;
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      macs += attention;
      if (c.isMoeLayer(l)) {
        macs += d * c.nRoutedExperts() + 3 * d * c.moeIntermediateSize() * ((long) c.nSharedExperts() + c.numExpertsPerTok());
      } else {
        macs += 3 * d * c.intermediateSize();
      }
    }
    return 2 * macs;
  }

  /** LM head FLOPs for one token's logits. */
  long lmHead() {
    return 2L * config.hiddenSize() * config.vocabSize();
  }

  /** Attention FLOPs of one row attending to {@code positions} cached positions, over every layer. */
  long attention(long positions) {
    ModelConfig c = config;
    return 2L * c.numHiddenLayers() * c.numHeads() * (2L * c.kvLoraRank() + c.qkRopeHeadDim()) * positions;
  }

  /** A prefill pass of {@code prompts} fresh prompts of {@code tokens} tokens, logits for each last token. */
  double prefill(int prompts, int tokens) {
    double perPrompt = (double) tokens * projectionsPerToken() + lmHead()
        + attention((long) tokens * (tokens + 1) / 2); // row i attends to i + 1 positions
    return prompts * perPrompt;
  }

  /** A decode step of {@code batch} sequences whose new tokens attend to {@code positions} positions each. */
  double decodeStep(int batch, double positions) {
    return batch * ((double) projectionsPerToken() + lmHead() + attention(1) * positions);
  }
}
