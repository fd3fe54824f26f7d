package io.moeflink.workbench.modelgen;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.engine.tokenizer.BundledTokenizer;

import io.moeflink.engine.checkpoint.Bf16;
import io.moeflink.workbench.checkpoint.SafetensorsWriter;
import io.moeflink.workbench.checkpoint.SafetensorsWriter.Tensor;
import io.moeflink.workbench.modelgen.WeightSpec.Storage;
import io.moeflink.workbench.quantize.IntQuantization;
import io.moeflink.workbench.quantize.IntQuantizer;
import io.moeflink.workbench.quantize.PackedIntTensors;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a seeded random DeepSeek-V3 checkpoint in Hugging Face layout: {@code config.json}, {@code
 * model-0000k-of-0000n.safetensors} shards with {@code model.safetensors.index.json}, and, when the
 * vocabulary is the real one, DeepSeek-V3's {@code tokenizer.json} and {@code
 * tokenizer_config.json}.
 *
 * <pre>{@code
 * GeneratedModel model =
 *     ModelGenerator.builder(ModelPreset.SMALL.shape())
 *         .format(WeightFormat.FP8)
 *         .seed(7)
 *         .build()
 *         .writeTo(Path.of("/tmp/small-fp8"));
 * }</pre>
 *
 * <p>Every element is a pure function of (seed, tensor name, index) (see {@link TensorRandom}), so
 * the same seed gives byte-identical files whatever the thread count. Tensors are cut into slices
 * of about a million elements that worker threads generate and write at their final file positions;
 * memory stays at a few slices, and the 1.6 GB {@code small} preset is bound by the disk, not the
 * CPU.
 */
public final class ModelGenerator {

  private static final Logger LOG = LoggerFactory.getLogger(ModelGenerator.class);

  /**
   * Default bound on tensor data per shard file. Real DeepSeek-V3 shards hold about 4.3 GB; 1 GiB
   * still splits the BF16 {@code small} preset into two shards, so readers meet real sharding.
   */
  public static final long DEFAULT_MAX_SHARD_BYTES = 1L << 30;

  /** Vocabulary of the bundled DeepSeek-V3 tokenizer; smaller models get no tokenizer files. */
  public static final int TOKENIZER_VOCAB_SIZE = 129280;


  /** Elements per unit of work: big enough to amortise a write, small enough to balance threads. */
  private static final long SLICE_ELEMENTS = 1L << 20;

  private final ModelShape shape;
  private final WeightFormat format;
  private final IntQuantization ints; // INT8 and INT4 only
  private final boolean mtp;
  private final CheckpointFamily family;
  private final long seed;
  private final long maxShardBytes;
  private final int threads;

  private ModelGenerator(Builder builder) {
    this.shape = builder.shape;
    this.format = builder.format;
    this.ints = builder.ints != null ? builder.ints : builder.format.defaultQuantization();
    if (ints != null && builder.format.defaultQuantization() != null
        && ints.bits() != builder.format.defaultQuantization().bits()) {
      throw new IllegalArgumentException(builder.format + " weights cannot be " + ints.bits() + "-bit integers");
    }
    this.seed = builder.seed;
    this.mtp = builder.mtp;
    this.family = builder.family;
    this.maxShardBytes = builder.maxShardBytes;
    this.threads = builder.threads;
  }

  /** A generator for {@code shape}: BF16, seed 0, 1 GiB shards, one thread per core. */
  public static Builder builder(ModelShape shape) {
    return new Builder(shape);
  }

  /**
   * Writes the checkpoint into {@code directory} (created if needed), replacing files of the same
   * names. Files from an earlier checkpoint with other names are left alone; clear the directory
   * first if that matters.
   */
  public GeneratedModel writeTo(Path directory) throws IOException {
    long start = System.nanoTime();
    CheckpointPlan plan = CheckpointPlan.of(shape, format, ints, mtp, family);
    List<List<Tensor>> shards = shard(plan);
    long parameters = plan.parameterCount();
    LOG.info(
        "Generating a {} {} checkpoint in {}: {} parameters ({} active), {} shard(s),"
            + " seed {}",
        format,
        family,
        directory,
        parameters,
        shape.activeParameterCount(),
        shards.size(),
        seed);

    Files.createDirectories(directory);
    Map<String, String> fileByTensor = new LinkedHashMap<>();
    List<Path> files = new ArrayList<>();
    long tensorBytes = 0;
    int tensorCount = 0;
    for (int i = 0; i < shards.size(); i++) {
      String fileName =
          String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, shards.size());
      files.add(directory.resolve(fileName));
      for (Tensor tensor : shards.get(i)) {
        fileByTensor.put(tensor.name(), fileName);
        tensorBytes = Math.addExact(tensorBytes, tensor.byteSize());
        tensorCount++;
      }
    }
    writeShards(plan, shards, files);

    Path index = directory.resolve("model.safetensors.index.json");
    HfJson.write(index, HfJson.index(tensorBytes, fileByTensor));
    files.add(index);
    Path config = directory.resolve("config.json");
    ObjectNode json = HfJson.config(shape, format, ints, family);
    json.put("num_nextn_predict_layers", mtp ? 1 : 0);
    HfJson.write(config, json);
    files.add(config);
    if (shape.vocabSize() >= TOKENIZER_VOCAB_SIZE && family == CheckpointFamily.V3) {
      files.addAll(copyTokenizer(directory));
    }

    long bytesWritten = 0;
    for (Path file : files) {
      bytesWritten += Files.size(file);
    }
    GeneratedModel model =
        new GeneratedModel(
            directory,
            shape,
            format,
            seed,
            parameters,
            shape.activeParameterCount(),
            tensorCount,
            tensorBytes,
            bytesWritten,
            files,
            Duration.ofNanos(System.nanoTime() - start));
    LOG.info("Wrote {}", model.summary());
    return model;
  }

  /**
   * Packs tensors in checkpoint order into shards of at most {@link #maxShardBytes} of data (a
   * larger tensor gets a shard of its own), as Hugging Face's {@code max_shard_size} does. An FP8
   * weight and its scale can end up in different shards, as they do in real checkpoints.
   */
  private List<List<Tensor>> shard(CheckpointPlan plan) {
    List<List<Tensor>> shards = new ArrayList<>();
    List<Tensor> current = new ArrayList<>();
    long currentBytes = 0;
    for (WeightSpec weight : plan.weights()) {
      for (Tensor tensor : weight.storedTensors()) {
        if (!current.isEmpty() && currentBytes + tensor.byteSize() > maxShardBytes) {
          shards.add(current);
          current = new ArrayList<>();
          currentBytes = 0;
        }
        current.add(tensor);
        currentBytes += tensor.byteSize();
      }
    }
    shards.add(current);
    return shards;
  }

  /**
   * Opens every shard (all headers are known up front), then lets the pool generate and write all
   * slices at their final positions. On failure the first error is thrown and the files written so
   * far are left as they are.
   */
  private void writeShards(CheckpointPlan plan, List<List<Tensor>> shards, List<Path> files)
      throws IOException {
    Map<String, SafetensorsWriter> writerByTensor = new HashMap<>();
    List<SafetensorsWriter> writers = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads, workerThreads());
    Throwable failure = null;
    try {
      for (int i = 0; i < shards.size(); i++) {
        SafetensorsWriter writer = SafetensorsWriter.create(files.get(i), shards.get(i));
        writers.add(writer);
        shards.get(i).forEach(tensor -> writerByTensor.put(tensor.name(), writer));
      }
      List<Future<?>> work = new ArrayList<>();
      for (WeightSpec weight : plan.weights()) {
        for (WeightSlice slice : WeightSlice.cover(weight, SLICE_ELEMENTS)) {
          work.add(pool.submit(() -> writeSlice(slice, writerByTensor)));
        }
      }
      for (Future<?> future : work) {
        future.get();
      }
    } catch (ExecutionException e) {
      failure = e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure = new InterruptedIOException("Interrupted while generating the checkpoint");
    } catch (IOException | RuntimeException e) {
      failure = e;
    } finally {
      stop(pool);
    }
    for (SafetensorsWriter writer : writers) {
      try {
        writer.close();
      } catch (IOException | RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw asIoException(failure);
    }
  }

  /** Cancels what is left and waits, so that no slice writes into a closed file. */
  private static void stop(ExecutorService pool) {
    pool.shutdownNow();
    try {
      pool.awaitTermination(1, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void writeSlice(WeightSlice slice, Map<String, SafetensorsWriter> writerByTensor) {
    WeightSpec weight = slice.weight();
    TensorRandom random = TensorRandom.forTensor(seed, weight.drawnAs());
    try {
      if (weight.storage() == Storage.FP8_BLOCKS) {
        writeFp8Slice(slice, random, writerByTensor, family.ue8m0Scales());
      } else if (weight.storage() == Storage.INT_PACKED) {
        writeIntSlice(slice, random, writerByTensor);
      } else {
        writePlainSlice(slice, random, writerByTensor.get(weight.name()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writePlainSlice(
      WeightSlice slice, TensorRandom random, SafetensorsWriter writer) throws IOException {
    WeightSpec weight = slice.weight();
    boolean bf16 = weight.storage() == Storage.BF16;
    long first = slice.firstElement();
    int count = slice.elementCount();
    int elementBytes = bf16 ? Short.BYTES : Float.BYTES;
    ByteBuffer bytes =
        ByteBuffer.allocate(Math.multiplyExact(count, elementBytes)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      float value = weight.mean() + weight.std() * random.gaussian(first + i);
      if (bf16) {
        bytes.putShort(Bf16.encode(value));
      } else {
        bytes.putFloat(value);
      }
    }
    bytes.flip();
    writer.write(weight.name(), first * elementBytes, bytes);
  }

  /** Generates and quantises one 128-row stripe at a time, then writes codes and scales. */
  private static void writeFp8Slice(
      WeightSlice slice, TensorRandom random, Map<String, SafetensorsWriter> writerByTensor, boolean ue8m0)
      throws IOException {
    WeightSpec weight = slice.weight();
    int cols = Math.toIntExact(weight.cols());
    int scaleCols = Math.toIntExact(Fp8BlockQuantizer.scaleShape(weight.rows(), cols)[1]);
    SafetensorsWriter codeWriter = writerByTensor.get(weight.name());
    SafetensorsWriter scaleWriter = writerByTensor.get(weight.scaleName());
    float[] stripe = new float[Math.multiplyExact(Fp8BlockQuantizer.BLOCK, cols)]; // (128, cols)
    byte[] codes = new byte[stripe.length];
    float[] scales = new float[scaleCols];
    ByteBuffer scaleBytes =
        ByteBuffer.allocate(scaleCols * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (long row = slice.rowBegin(); row < slice.rowEnd(); row += Fp8BlockQuantizer.BLOCK) {
      int stripeRows = (int) Math.min(Fp8BlockQuantizer.BLOCK, slice.rowEnd() - row);
      int count = stripeRows * cols;
      long first = row * cols;
      for (int i = 0; i < count; i++) {
        stripe[i] = weight.mean() + weight.std() * random.gaussian(first + i);
      }
      Fp8BlockQuantizer.quantizeStripe(stripe, stripeRows, cols, codes, scales, ue8m0);
      codeWriter.write(weight.name(), first, ByteBuffer.wrap(codes, 0, count));
      scaleBytes.clear();
      scaleBytes.asFloatBuffer().put(scales);
      long blockRow = row / Fp8BlockQuantizer.BLOCK;
      scaleWriter.write(weight.scaleName(), blockRow * scaleCols * Float.BYTES, scaleBytes);
    }
  }

  /** Generates and quantizes the slice's rows to integers, then writes words, scales, shape and zero points. */
  private static void writeIntSlice(
      WeightSlice slice, TensorRandom random, Map<String, SafetensorsWriter> writerByTensor) throws IOException {
    WeightSpec weight = slice.weight();
    int cols = Math.toIntExact(weight.cols());
    int rows = Math.toIntExact(slice.rowEnd() - slice.rowBegin());
    float[] values = new float[slice.elementCount()];
    long first = slice.firstElement();
    for (int i = 0; i < values.length; i++) {
      values[i] = weight.mean() + weight.std() * random.gaussian(first + i);
    }
    IntQuantizer.Rows q = IntQuantizer.quantize(values, rows, cols, weight.ints());
    PackedIntTensors.write(q, weight.name(), slice.rowBegin(), weight.rows(), writerByTensor::get);
  }

  /** Unpacks the bundled tokenizer next to the weights, so the model can encode text. */
  private static List<Path> copyTokenizer(Path directory) throws IOException {
    return BundledTokenizer.writeTo(directory);
  }

  /** Rethrows unchecked failures as they are; I/O failures come back for the caller to throw. */
  private static IOException asIoException(Throwable failure) {
    if (failure instanceof UncheckedIOException unchecked) {
      return unchecked.getCause();
    }
    if (failure instanceof IOException io) {
      return io;
    }
    if (failure instanceof RuntimeException runtime) {
      throw runtime;
    }
    if (failure instanceof Error error) {
      throw error;
    }
    return new IOException(failure);
  }

  private static ThreadFactory workerThreads() {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, "model-generator-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** Settings of a {@link ModelGenerator}; {@link #build()} checks them. */
  public static final class Builder {
    private final ModelShape shape;
    private WeightFormat format = WeightFormat.BF16;
    private IntQuantization ints; // null: the format's default
    private boolean mtp;
    private CheckpointFamily family = CheckpointFamily.V3;
    private long seed;
    private long maxShardBytes = DEFAULT_MAX_SHARD_BYTES;
    private int threads = Runtime.getRuntime().availableProcessors();

    private Builder(ModelShape shape) {
      this.shape = shape;
    }

    public Builder format(WeightFormat value) {
      format = value;
      return this;
    }

    /** The integer quantization of an INT8 or INT4 format (default: {@link WeightFormat#defaultQuantization()}). */
    public Builder ints(IntQuantization value) {
      ints = value;
      return this;
    }

    /** Whether to write an MTP module as layer {@code num_hidden_layers} (default: no). */
    public Builder mtp(boolean value) {
      mtp = value;
      return this;
    }

    /**
     * The config keys and tensor names of {@code value} (default V3). The shape is written as
     * given; {@link CheckpointFamily#adapt} gives it the family's settings.
     */
    public Builder family(CheckpointFamily value) {
      family = value;
      return this;
    }

    public Builder seed(long value) {
      seed = value;
      return this;
    }

    /** Upper bound on the tensor data per shard file; a single larger tensor gets its own. */
    public Builder maxShardBytes(long value) {
      maxShardBytes = value;
      return this;
    }

    /** Worker threads; the output does not depend on it. */
    public Builder threads(int value) {
      threads = value;
      return this;
    }

    public ModelGenerator build() {
      if (shape == null) {
        throw new IllegalArgumentException("No model shape given; use a ModelPreset's shape()");
      }
      if (format == null) {
        throw new IllegalArgumentException("No weight format given, should be BF16 or FP8");
      }
      if (maxShardBytes <= 0) {
        throw new IllegalArgumentException(
            "maxShardBytes is " + maxShardBytes + ", must be positive");
      }
      if (threads <= 0) {
        throw new IllegalArgumentException("threads is " + threads + ", must be positive");
      }
      if (family.ue8m0Scales() && format != WeightFormat.FP8) {
        throw new IllegalArgumentException(
            "A " + family + " checkpoint stores FP8 weights with power-of-two (ue8m0) scales: use the fp8 format");
      }
      return new ModelGenerator(this);
    }
  }
}
