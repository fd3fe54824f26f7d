package io.moeflink.engine.model;

/**
 * The router's choice for {@code n} tokens: {@code k} experts each, in ascending expert id, with
 * their combine weights.
 *
 * @param experts (n, k) expert ids, ascending within a token
 * @param weights (n, k) normalised unbiased scores times {@code routed_scaling_factor}
 */
public record Routing(int tokens, int k, int[] experts, float[] weights) {}
