package io.moeflink.workbench.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.checkpoint.DType;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes one {@code .safetensors} file whose tensors are all declared up front.
 *
 * <p>The format is an 8-byte little-endian header length, a JSON header ({@code __metadata__} and,
 * per tensor, {@code dtype}, {@code shape} and {@code data_offsets} {@code [begin, end)} counted
 * from the end of the header), padded with spaces to a multiple of 8 so that every tensor of an
 * aligned dtype starts aligned, then the tensors' little-endian bytes back to back. Because every
 * offset is known once the tensors are declared, the header is written at {@link #create} and each
 * tensor's bytes can then be written at its own position, in any order, from any thread, a piece at
 * a time. A multi-gigabyte file is therefore never held in memory.
 *
 * <pre>{@code
 * List<SafetensorsWriter.Tensor> tensors =
 *     List.of(SafetensorsWriter.Tensor.of("model.norm.weight", DType.BF16, 1024));
 * try (SafetensorsWriter out = SafetensorsWriter.create(file, tensors)) {
 *   out.write("model.norm.weight", bf16Bytes); // or out.write(name, byteOffset, piece) per piece
 * }
 * }</pre>
 *
 * <p>{@link #close()} fails if any tensor did not receive exactly its size in bytes.
 */
public final class SafetensorsWriter implements Closeable {

  /**
   * One declared tensor.
   *
   * @param name the tensor name, unique within the file
   * @param dtype element type
   * @param shape dimensions, outermost first (row-major), each at least 0
   */
  public record Tensor(String name, DType dtype, List<Long> shape) {

    public Tensor {
      if (name == null || name.isEmpty() || name.equals(METADATA_KEY)) {
        throw new IllegalArgumentException("Tensor name must be non-empty and not " + METADATA_KEY);
      }
      shape = List.copyOf(shape);
      for (long dim : shape) {
        if (dim < 0) {
          throw new IllegalArgumentException("Tensor " + name + " has negative dimension " + shape);
        }
      }
    }

    /** A tensor of the given dimensions. */
    public static Tensor of(String name, DType dtype, long... shape) {
      return new Tensor(name, dtype, Arrays.stream(shape).boxed().toList());
    }

    /** Number of elements (1 for a scalar). */
    public long elements() {
      long count = 1;
      for (long dim : shape) {
        count = Math.multiplyExact(count, dim);
      }
      return count;
    }

    /** Size of the data in bytes. */
    public long byteSize() {
      return Math.multiplyExact(elements(), dtype.bytes());
    }
  }

  /** The header key that holds string metadata rather than a tensor. */
  private static final String METADATA_KEY = "__metadata__";

  /** Header alignment required by the format. */
  private static final int HEADER_ALIGNMENT = 8;

  /** Length of the little-endian header-length prefix. */
  private static final int LENGTH_PREFIX_BYTES = 8;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where the file goes; named in error messages. */
  private final Path file;

  /** Positional writes on a FileChannel are safe from several threads at once. */
  private final FileChannel channel;

  /** File position of the first data byte (prefix plus padded header). */
  private final long dataStart;

  /** Declared tensors by name, with their offsets relative to {@link #dataStart}. */
  private final Map<String, Slot> slots;

  /** A tensor's place in the data section and the bytes written to it so far. */
  private record Slot(Tensor tensor, long begin, AtomicLong written) {}

  private SafetensorsWriter(
      Path file, FileChannel channel, long dataStart, Map<String, Slot> slots) {
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.slots = slots;
  }

  /**
   * Creates (or truncates) {@code file}, writes the header for {@code tensors} in the given order,
   * and returns a writer for their data.
   */
  public static SafetensorsWriter create(Path file, List<Tensor> tensors) throws IOException {
    Map<String, Slot> slots = new LinkedHashMap<>();
    long offset = 0;
    for (Tensor tensor : tensors) {
      Slot slot = new Slot(tensor, offset, new AtomicLong());
      if (slots.putIfAbsent(tensor.name(), slot) != null) {
        throw new IllegalArgumentException(
            "Tensor " + tensor.name() + " declared twice for " + file);
      }
      offset = Math.addExact(offset, tensor.byteSize());
    }
    byte[] header = header(slots.values());
    long dataStart = LENGTH_PREFIX_BYTES + (long) header.length;
    FileChannel channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE);
    try {
      ByteBuffer prefix = ByteBuffer.allocate(LENGTH_PREFIX_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      prefix.putLong(header.length).flip();
      writeFully(channel, prefix, 0);
      writeFully(channel, ByteBuffer.wrap(header), LENGTH_PREFIX_BYTES);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return new SafetensorsWriter(file, channel, dataStart, slots);
  }

  /** Writes a whole tensor; {@code data} must hold exactly its size, little-endian. */
  public void write(String name, ByteBuffer data) throws IOException {
    Slot slot = slot(name);
    if (data.remaining() != slot.tensor().byteSize()) {
      throw new IllegalArgumentException(
          "Tensor "
              + name
              + " needs "
              + slot.tensor().byteSize()
              + " bytes, got "
              + data.remaining());
    }
    write(name, 0, data);
  }

  /**
   * Writes {@code data} (its remaining bytes, little-endian) at {@code byteOffset} within tensor
   * {@code name}. Pieces of one tensor may come in any order and from several threads; each byte
   * must be written exactly once.
   */
  public void write(String name, long byteOffset, ByteBuffer data) throws IOException {
    Slot slot = slot(name);
    long length = data.remaining();
    if (byteOffset < 0 || byteOffset + length > slot.tensor().byteSize()) {
      throw new IllegalArgumentException(
          "Write of "
              + length
              + " bytes at offset "
              + byteOffset
              + " falls outside tensor "
              + name
              + " of "
              + slot.tensor().byteSize()
              + " bytes");
    }
    writeFully(channel, data, dataStart + slot.begin() + byteOffset);
    slot.written().addAndGet(length);
  }

  /**
   * Closes the file, failing if a tensor did not receive exactly its size: a short file would
   * otherwise only be noticed by whoever loads it.
   */
  @Override
  public void close() throws IOException {
    channel.close();
    for (Slot slot : slots.values()) {
      long expected = slot.tensor().byteSize();
      if (slot.written().get() != expected) {
        throw new IllegalStateException(
            "Tensor "
                + slot.tensor().name()
                + " in "
                + file
                + " received "
                + slot.written().get()
                + " bytes, expected "
                + expected);
      }
    }
  }

  private Slot slot(String name) {
    Slot slot = slots.get(name);
    if (slot == null) {
      throw new IllegalArgumentException("Tensor " + name + " was not declared for " + file);
    }
    return slot;
  }

  /** The JSON header in declaration order, space-padded to {@link #HEADER_ALIGNMENT}. */
  private static byte[] header(Iterable<Slot> slots) {
    ObjectNode root = JSON.createObjectNode();
    root.putObject(METADATA_KEY).put("format", "pt");
    for (Slot slot : slots) {
      Tensor tensor = slot.tensor();
      ObjectNode entry = root.putObject(tensor.name());
      entry.put("dtype", tensor.dtype().code());
      ArrayNode shape = entry.putArray("shape");
      tensor.shape().forEach(shape::add);
      entry.putArray("data_offsets").add(slot.begin()).add(slot.begin() + tensor.byteSize());
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int padded = (json.length + HEADER_ALIGNMENT - 1) / HEADER_ALIGNMENT * HEADER_ALIGNMENT;
    byte[] header = Arrays.copyOf(json, padded);
    Arrays.fill(header, json.length, padded, (byte) ' ');
    return header;
  }

  private static void writeFully(FileChannel channel, ByteBuffer data, long position)
      throws IOException {
    long at = position;
    while (data.hasRemaining()) {
      at += channel.write(data, at);
    }
  }

  @Override
  public String toString() {
    return "SafetensorsWriter[" + file + ", " + slots.size() + " tensors]";
  }
}
