package io.moeflink.workbench.bench;

/**
 * The read-bandwidth probe's result.
 *
 * @param bytes bytes read per pass
 * @param threads threads reading
 * @param passes timed passes
 * @param medianNanos median pass time
 * @param bytesPerSecond {@code bytes / medianNanos}
 * @param checksum sum of everything read (keeps the loads observable)
 */
public record BandwidthMeasurement(
    long bytes, int threads, int passes, long medianNanos, double bytesPerSecond, long checksum) {}
