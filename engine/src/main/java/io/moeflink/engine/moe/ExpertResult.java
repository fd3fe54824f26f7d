package io.moeflink.engine.moe;

/**
 * Raw (unweighted) expert outputs for an {@link ExpertBatch}: one row per (token, expert) pair,
 * in the batch's order. Weighting and summing happen on the owner, in ascending expert id.
 *
 * @param layer the MoE layer
 * @param outputs (pairs, D)
 */
public record ExpertResult(int layer, int pairs, float[] outputs) {}
