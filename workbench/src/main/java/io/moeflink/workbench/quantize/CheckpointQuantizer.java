package io.moeflink.workbench.quantize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.checkpoint.Tensor;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.WeightMatrix;
import io.moeflink.workbench.checkpoint.SafetensorsWriter;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

/**
 * Rewrites a Hugging Face DeepSeek-V3 checkpoint (BF16, F32 or FP8 projections) with its
 * projections as compressed-tensors {@code pack-quantized} integers: each projection is decoded
 * to F32 exactly as the engine reads it (FP8 with its block scales), quantized by {@link
 * IntQuantizer} and stored as {@link PackedIntTensors}. Embeddings, norms, routers, the LM head,
 * the MTP layers and everything else are copied byte for byte, shard by shard under the same file
 * names; {@code config.json} gets the compressed-tensors {@code quantization_config}; the
 * tokenizer and other side files are copied.
 */
public final class CheckpointQuantizer {

  /** Rows quantized at a time: bounds the memory of one task, a multiple of every perWord. */
  private static final int ROW_CHUNK = 256;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * What one run did.
   *
   * @param quantized projections written as integers
   * @param copied tensors copied as they were
   * @param bytesIn tensor bytes read
   * @param bytesOut tensor bytes written
   */
  public record Result(Path directory, int quantized, int copied, long bytesIn, long bytesOut, Duration elapsed) {}

  private final IntQuantization ints;
  private final int threads;

  public CheckpointQuantizer(IntQuantization ints, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads is " + threads + ", expected at least 1");
    }
    this.ints = ints;
    this.threads = threads;
  }

  /**
   * Quantizes the checkpoint in {@code in} into {@code out} (created; must not hold a checkpoint).
   *
   * @param progress told the tensor bytes read so far, after each tensor
   */
  public Result quantize(Path in, Path out, LongConsumer progress) throws IOException {
    long start = System.nanoTime();
    ModelConfig config = ModelConfig.load(in);
    try (Checkpoint checkpoint = Checkpoint.open(in)) {
      Set<String> projections = new LinkedHashSet<>(TensorNames.projections(config));
      Map<String, List<String>> tensorsByFile = tensorsByFile(checkpoint, projections);
      Files.createDirectories(out);
      Map<String, String> fileByTensor = new TreeMap<>();
      long[] totals = new long[2]; // bytes in, bytes out
      int quantized = 0;
      int copied = 0;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        for (Map.Entry<String, List<String>> file : tensorsByFile.entrySet()) {
          List<SafetensorsWriter.Tensor> declared = new ArrayList<>();
          for (String name : file.getValue()) {
            Tensor t = checkpoint.tensor(name);
            List<SafetensorsWriter.Tensor> stored = projections.contains(name)
                ? PackedIntTensors.declare(name, t.shape()[0], t.shape()[1], ints)
                : List.of(SafetensorsWriter.Tensor.of(name, t.dtype(), t.shape()));
            for (SafetensorsWriter.Tensor s : stored) {
              declared.add(s);
              fileByTensor.put(s.name(), file.getKey());
              totals[1] += s.byteSize();
            }
          }
          try (SafetensorsWriter writer = SafetensorsWriter.create(out.resolve(file.getKey()), declared)) {
            List<Future<Long>> done = new ArrayList<>();
            for (String name : file.getValue()) {
              boolean integer = projections.contains(name);
              done.add(pool.submit(() -> integer ? quantize(checkpoint, name, writer) : copy(checkpoint.tensor(name), writer)));
              if (integer) {
                quantized++;
              } else {
                copied++;
              }
            }
            for (Future<Long> f : done) {
              totals[0] += await(f);
              progress.accept(totals[0]);
            }
          }
        }
      } finally {
        pool.shutdownNow();
      }
      writeIndex(out, fileByTensor, totals[1]);
      writeConfig(in, out);
      copySideFiles(in, out);
      return new Result(out, quantized, copied, totals[0], totals[1], Duration.ofNanos(System.nanoTime() - start));
    }
  }

  /**
   * Every tensor by shard file, in file order, leaving out the FP8 scales of projections (consumed
   * by the quantization). Refuses a checkpoint whose projections are already integers.
   */
  private static Map<String, List<String>> tensorsByFile(Checkpoint checkpoint, Set<String> projections) {
    Set<String> consumed = new LinkedHashSet<>();
    for (String p : projections) {
      if (checkpoint.contains(p + "_packed") || (checkpoint.contains(p) && checkpoint.tensor(p).dtype() == DType.I8)) {
        throw new CheckpointException(p + " in " + checkpoint.dir() + " is already stored as integers; quantize a BF16, F32 or FP8 checkpoint");
      }
      if (!checkpoint.contains(p)) {
        throw new CheckpointException("Projection " + p + " is missing from " + checkpoint.dir());
      }
      consumed.add(p + "_scale_inv");
    }
    Map<String, List<String>> byFile = new TreeMap<>();
    for (String name : checkpoint.tensorNames(Integer.MAX_VALUE)) {
      if (!consumed.contains(name)) {
        byFile.computeIfAbsent(checkpoint.tensor(name).file(), f -> new ArrayList<>()).add(name);
      }
    }
    return byFile;
  }

  /** Quantizes projection {@code name} chunk by chunk of rows; returns the bytes it read. */
  private long quantize(Checkpoint checkpoint, String name, SafetensorsWriter writer) throws IOException {
    Tensor t = checkpoint.tensor(name);
    int rows = Math.toIntExact(t.shape()[0]);
    int cols = Math.toIntExact(t.shape()[1]);
    WeightMatrix matrix = WeightMatrix.load(checkpoint, name, rows, cols);
    float[] row = new float[cols];
    for (int begin = 0; begin < rows; begin += ROW_CHUNK) {
      int count = Math.min(ROW_CHUNK, rows - begin);
      float[] values = new float[count * cols];
      for (int r = 0; r < count; r++) {
        matrix.decodeRow(begin + r, row);
        System.arraycopy(row, 0, values, r * cols, cols);
      }
      PackedIntTensors.write(IntQuantizer.quantize(values, count, cols, ints), name, begin, rows, n -> writer);
    }
    return matrix.bytes();
  }

  /** Copies a tensor's bytes as they are; returns how many. */
  private static long copy(Tensor t, SafetensorsWriter writer) throws IOException {
    long size = t.info().end() - t.info().begin();
    int chunk = 1 << 24;
    for (long at = 0; at < size; at += chunk) {
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(chunk, size - at));
      t.read(at, buffer);
      buffer.flip();
      writer.write(t.name(), at, buffer);
    }
    if (size == 0) {
      writer.write(t.name(), 0, ByteBuffer.allocate(0));
    }
    return size;
  }

  private static long await(Future<Long> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("Interrupted while quantizing");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof UncheckedIOException io) {
        throw io.getCause();
      }
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(cause);
    }
  }

  private static void writeIndex(Path out, Map<String, String> fileByTensor, long totalSize) throws IOException {
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", totalSize);
    ObjectNode map = index.putObject("weight_map");
    fileByTensor.forEach(map::put);
    JSON.writeValue(out.resolve("model.safetensors.index.json").toFile(), index);
  }

  /** The input's {@code config.json} with the compressed-tensors quantization config. */
  private void writeConfig(Path in, Path out) throws IOException {
    ObjectNode config = (ObjectNode) JSON.readTree(in.resolve("config.json").toFile());
    config.remove("quantization_config");
    CompressedTensorsConfig.write(config.putObject("quantization_config"), ints);
    JSON.writeValue(out.resolve("config.json").toFile(), config);
  }

  /** Tokenizer, generation config, code and anything else beside the weights. */
  private static void copySideFiles(Path in, Path out) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(in)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        boolean weights = name.endsWith(".safetensors") || name.equals("model.safetensors.index.json") || name.equals("config.json");
        if (!weights && Files.isRegularFile(f)) {
          Files.copy(f, out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
