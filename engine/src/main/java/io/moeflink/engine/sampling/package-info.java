/**
 * Choosing the next token from logits, and deciding when a sequence is finished.
 *
 * <p>Sampling is deterministic by construction: the random number for the token at position {@code
 * t} is a pure function of {@code (seed, t)} ({@link io.moeflink.engine.sampling.CounterRandom}),
 * and every sum runs in a fixed order. A completion therefore does not depend on batching, threads
 * or recovery from a failure (DESIGN.md, "Determinism").
 */
package io.moeflink.engine.sampling;
