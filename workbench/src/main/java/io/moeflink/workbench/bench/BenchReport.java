package io.moeflink.workbench.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;

/**
 * One benchmark run: the read bandwidth (alone, before anything else), each decode batch size with
 * the bytes it read and its share of the bandwidth measured between its steps, and prefill
 * throughput.
 *
 * @param model what was measured (directory and dtype), for the reader
 * @param backend the kernel backend's name
 * @param threads kernel threads (the bandwidth probe used as many)
 * @param fma the FMA throughput probe before the measurements, the peak that the decode rows'
 *     compute fractions divide by (each prefill row carries the probe's median between its passes)
 */
public record BenchReport(
    String model,
    String backend,
    int threads,
    BandwidthMeasurement bandwidth,
    FmaMeasurement fma,
    List<DecodeMeasurement> decode,
    List<PrefillMeasurement> prefill) {

  private static final double GB = 1e9;
  /**
   * Heap bytes per decoded token above which a row gets a warning: compiled kernels allocate about
   * 1 MB per token on {@code small} (the step's activations); a kernel left in C1 code, whose
   * vectors are all boxed, allocated 32 MB.
   */
  static final double SUSPICIOUS_BYTES_PER_TOKEN = 8e6;

  public BenchReport {
    decode = List.copyOf(decode);
    prefill = List.copyOf(prefill);
  }

  /** A fixed-width table for people. */
  public String table() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "model %s, backend %s, %d threads%n", model, backend, threads));
    sb.append(String.format(Locale.ROOT,
        "read bandwidth: %.2f GB/s (%.2f GiB, median of %d passes, %d threads)%n",
        bandwidth.bytesPerSecond() / GB, bandwidth.bytes() / (double) (1L << 30), bandwidth.passes(),
        bandwidth.threads()));
    sb.append(String.format(Locale.ROOT, "FMA peak: %.1f GFLOP/s (%s, %d threads)%n", fma.flopsPerSecond() / 1e9,
        fma.kind(), fma.threads()));
    sb.append(String.format(Locale.ROOT, "%-15s %10s %10s %12s %9s %10s %10s %7s %8s %9s %8s%n",
        "config", "tokens/s", "step ms", "bytes/step", "experts", "GB/s", "GB/s limit", "ratio", "GFLOP/s", "FMA limit",
        "FMA frac"));
    for (DecodeMeasurement d : decode) {
      sb.append(String.format(Locale.ROOT, "%-15s %10.1f %10.2f %12.4g %9.1f %10.2f %10.2f %7.2f %8.1f %9.1f %8.2f%n",
          "decode b=" + d.batch(), d.tokensPerSecond(), d.medianStepNanos() / 1e6, d.bytesPerStep(),
          d.expertsPerLayer(), d.bytesPerSecond() / GB, d.limit().bytesPerSecond() / GB, d.ratio(),
          d.flopsPerSecond() / 1e9, fma.flopsPerSecond() / 1e9, d.flopsPerSecond() / fma.flopsPerSecond()));
    }
    if (!decode.isEmpty()) {
      sb.append(String.format(Locale.ROOT, "(decode timed after %s untimed warm-up steps)%n",
          String.join(", ", decode.stream().map(d -> "b=" + d.batch() + ": " + d.warmupSteps()).toList())));
    }
    for (PrefillMeasurement p : prefill) {
      sb.append(String.format(Locale.ROOT, "%-15s %10.1f %10.2f %12s %9s %10s %10s %7s %8.1f %9.1f %8.2f%n",
          "prefill " + p.prompts() + "x" + p.tokensPerPrompt(), p.tokensPerSecond(), p.medianNanos() / 1e6, "", "", "",
          "", "", p.flopsPerSecond() / 1e9, p.peakFlopsPerSecond() / 1e9, p.fmaFraction()));
    }
    for (DecodeMeasurement d : decode) {
      if (d.allocatedBytesPerStep() > SUSPICIOUS_BYTES_PER_TOKEN * d.batch()) {
        sb.append(String.format(Locale.ROOT,
            "warning: decode b=%d allocated %.1f MB a step, %.1f MB a token (compiled kernels: about 1): some"
                + " kernel runs without C2 and boxes its vectors; docs/benchmarks.md says how to find it%n",
            d.batch(), d.allocatedBytesPerStep() / 1e6, d.allocatedBytesPerStep() / 1e6 / d.batch()));
      }
    }
    return sb.toString();
  }

  /** The same figures as JSON, in base units (bytes, bytes per second, nanoseconds). */
  public ObjectNode toJson() {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode root = mapper.createObjectNode();
    root.put("model", model);
    root.put("backend", backend);
    root.put("threads", threads);
    ObjectNode bw = root.putObject("read_bandwidth");
    bw.put("bytes", bandwidth.bytes());
    bw.put("threads", bandwidth.threads());
    bw.put("passes", bandwidth.passes());
    bw.put("median_ns", bandwidth.medianNanos());
    bw.put("bytes_per_second", bandwidth.bytesPerSecond());
    bw.put("checksum", bandwidth.checksum());
    ObjectNode peak = root.putObject("fma_peak");
    peak.put("flops_per_second", fma.flopsPerSecond());
    peak.put("threads", fma.threads());
    peak.put("kind", fma.kind());
    ArrayNode dec = root.putArray("decode");
    for (DecodeMeasurement d : decode) {
      ObjectNode o = dec.addObject();
      o.put("batch", d.batch());
      o.put("warmup_steps", d.warmupSteps());
      o.put("steps", d.steps());
      o.put("tokens_per_second", d.tokensPerSecond());
      o.put("median_step_ns", d.medianStepNanos());
      o.put("bytes_per_step", d.bytesPerStep());
      o.put("dense_bytes_per_step", d.denseBytesPerStep());
      o.put("experts_per_layer", d.expertsPerLayer());
      o.put("bytes_per_second", d.bytesPerSecond());
      o.put("limit_bytes_per_second", d.limit().bytesPerSecond());
      o.put("limit_median_ns", d.limit().medianNanos());
      o.put("ratio", d.ratio());
      o.put("flops_per_step", d.flopsPerStep());
      o.put("flops_per_second", d.flopsPerSecond());
      o.put("fma_peak_fraction", d.flopsPerSecond() / fma.flopsPerSecond());
      o.put("allocated_bytes_per_step", d.allocatedBytesPerStep());
    }
    ArrayNode pre = root.putArray("prefill");
    for (PrefillMeasurement p : prefill) {
      ObjectNode o = pre.addObject();
      o.put("prompts", p.prompts());
      o.put("tokens_per_prompt", p.tokensPerPrompt());
      o.put("repeats", p.repeats());
      o.put("median_ns", p.medianNanos());
      o.put("tokens_per_second", p.tokensPerSecond());
      o.put("flops", p.flops());
      o.put("flops_per_second", p.flopsPerSecond());
      o.put("fma_limit_flops_per_second", p.peakFlopsPerSecond());
      o.put("fma_peak_fraction", p.fmaFraction());
    }
    return root;
  }
}
