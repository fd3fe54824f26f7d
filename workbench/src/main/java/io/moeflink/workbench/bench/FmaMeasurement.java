package io.moeflink.workbench.bench;

/**
 * The FMA probe's result.
 *
 * @param flopsPerSecond median over the passes, all threads together
 * @param threads threads that ran chains at once
 * @param kind the vector width and chains
 * @param checksum the chains' results, so that the JIT keeps them
 */
public record FmaMeasurement(double flopsPerSecond, int threads, String kind, double checksum) {}
