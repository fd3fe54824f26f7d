package io.moeflink.engine.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped. The header is validated completely at open
 * (dtypes, shapes, offsets in range, no overlaps) so that a bad file fails here with a message,
 * never later with a crash.
 *
 * <p>Tensors are mapped in groups of at most {@link #MAX_MAPPING} bytes (Java 17 maps at most 2
 * GiB at a time) rather than one mapping each: a real DeepSeek-V3 has ~90k tensors, more than
 * the kernel's default limit of memory maps.
 */
public final class SafetensorsFile implements AutoCloseable {
  /** Headers larger than this are refused rather than read into memory. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  /** Largest single mapping; Java 17's {@code FileChannel.map} takes at most 2^31-1 bytes. */
  static final long MAX_MAPPING = Integer.MAX_VALUE;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, ByteBuffer> views = new LinkedHashMap<>();

  private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors) {
    this.path = path;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
  }

  /** Opens and validates a file. */
  public static SafetensorsFile open(Path path) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      long size = channel.size();
      String file = path.getFileName().toString();
      if (size < 8) {
        throw new CheckpointException(file + " is truncated: " + size + " bytes, a safetensors file has at least 8");
      }
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, len, 0);
      long headerLength = len.flip().getLong();
      if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
        throw new CheckpointException(
            file + " has a header length of " + headerLength + " bytes, expected 2.." + MAX_HEADER_BYTES
                + ": not a safetensors file, or corrupt");
      }
      if (headerLength > size - 8) {
        throw new CheckpointException(
            file + " is truncated: its header claims " + headerLength + " bytes but the file has only "
                + (size - 8) + " after the length field");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      readFully(channel, header, 8);
      long dataStart = 8 + headerLength;
      Map<String, TensorInfo> tensors =
          parseHeader(new String(header.array(), StandardCharsets.UTF_8), file, size - dataStart);
      SafetensorsFile f = new SafetensorsFile(path, channel, dataStart, tensors);
      f.mapAll();
      return f;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static void readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
    while (dst.hasRemaining()) {
      int n = channel.read(dst, position + dst.position());
      if (n < 0) {
        throw new CheckpointException("unexpected end of file");
      }
    }
  }

  static Map<String, TensorInfo> parseHeader(String text, String file, long dataSize) {
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new CheckpointException(file + " has a header that is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new CheckpointException(file + " has a header that is not a JSON object");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      tensors.put(e.getKey(), parseEntry(e.getKey(), e.getValue(), file, dataSize));
    }
    checkNoOverlap(tensors.values(), file);
    return Collections.unmodifiableMap(tensors);
  }

  private static TensorInfo parseEntry(String name, JsonNode e, String file, long dataSize) {
    String where = "Tensor " + name + " in " + file;
    if (!e.isObject() || !e.path("dtype").isTextual() || !e.path("shape").isArray()
        || !e.path("data_offsets").isArray() || e.get("data_offsets").size() != 2) {
      throw new CheckpointException(where + " has a malformed header entry " + e + ": expected dtype, shape, data_offsets");
    }
    DType dtype = DType.parse(e.get("dtype").asText(), name, file);
    long[] shape = new long[e.get("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = e.get("shape").get(i);
      if (!isWholeNumber(d) || d.asLong() < 0) {
        throw new CheckpointException(where + " has shape " + e.get("shape") + ": dimensions must be non-negative integers");
      }
      shape[i] = d.asLong();
    }
    JsonNode off = e.get("data_offsets");
    if (!isWholeNumber(off.get(0)) || !isWholeNumber(off.get(1))) {
      throw new CheckpointException(where + " has data_offsets " + off + ", expected two integers");
    }
    long begin = off.get(0).asLong();
    long end = off.get(1).asLong();
    if (begin < 0 || end < begin || end > dataSize) {
      throw new CheckpointException(
          where + " has data_offsets [" + begin + ", " + end + "], outside the " + dataSize + " data bytes of the file");
    }
    TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
    long expected;
    try {
      expected = Math.multiplyExact(info.elementCount(), dtype.bytes());
    } catch (ArithmeticException overflow) {
      throw new CheckpointException(where + " has an impossible shape " + info.shapeText());
    }
    if (end - begin != expected) {
      throw new CheckpointException(
          where + " has " + (end - begin) + " data bytes, expected " + expected + " for " + dtype.code() + " "
              + info.shapeText());
    }
    return info;
  }

  /** An integer that fits a long; not 1.5, which Jackson would convert to 1 (found by fuzzing). */
  private static boolean isWholeNumber(JsonNode n) {
    return n.isIntegralNumber() && n.canConvertToLong();
  }

  private static void checkNoOverlap(Iterable<TensorInfo> infos, String file) {
    List<TensorInfo> sorted = new ArrayList<>();
    infos.forEach(sorted::add);
    sorted.sort(Comparator.comparingLong(TensorInfo::begin));
    for (int i = 1; i < sorted.size(); i++) {
      TensorInfo a = sorted.get(i - 1);
      TensorInfo b = sorted.get(i);
      if (b.begin() < a.end()) {
        throw new CheckpointException(
            "Tensors " + a.name() + " [" + a.begin() + ", " + a.end() + ") and " + b.name() + " [" + b.begin()
                + ", " + b.end() + ") overlap in " + file);
      }
    }
  }

  /** Maps the data in groups of consecutive tensors, each group at most 2 GiB. */
  private void mapAll() throws IOException {
    List<TensorInfo> sorted = new ArrayList<>(tensors.values());
    sorted.sort(Comparator.comparingLong(TensorInfo::begin));
    int i = 0;
    while (i < sorted.size()) {
      TensorInfo first = sorted.get(i);
      if (first.end() - first.begin() > MAX_MAPPING) {
        throw new CheckpointException(
            "Tensor " + first.name() + " in " + fileName() + " has " + (first.end() - first.begin())
                + " bytes; one tensor may hold at most " + MAX_MAPPING + " bytes on Java 17");
      }
      int j = i;
      while (j + 1 < sorted.size() && sorted.get(j + 1).end() - first.begin() <= MAX_MAPPING) {
        j++;
      }
      long start = first.begin();
      long length = sorted.get(j).end() - start;
      MappedByteBuffer region = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + start, length);
      for (int k = i; k <= j; k++) {
        TensorInfo t = sorted.get(k);
        ByteBuffer view =
            region.slice((int) (t.begin() - start), (int) (t.end() - t.begin())).order(ByteOrder.LITTLE_ENDIAN);
        views.put(t.name(), view);
      }
      i = j + 1;
    }
  }

  /** Reads tensor {@code t}'s bytes from {@code offset} into {@code dst}, to its limit, from the file itself. */
  void read(TensorInfo t, long offset, ByteBuffer dst) {
    if (offset < 0 || offset + dst.remaining() > t.end() - t.begin()) {
      throw new IndexOutOfBoundsException("Bytes [" + offset + ", " + (offset + dst.remaining()) + ") of " + t.name());
    }
    try {
      long at = dataStart + t.begin() + offset;
      while (dst.hasRemaining()) {
        int n = channel.read(dst, at);
        if (n < 0) {
          throw new CheckpointException("Unexpected end of " + fileName() + " in tensor " + t.name());
        }
        at += n;
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("Cannot read tensor " + t.name() + " from " + path, e);
    }
  }

  /** The tensors in this file, by name. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** A read-only little-endian view of a tensor's bytes. */
  public ByteBuffer data(String name) {
    ByteBuffer b = views.get(name);
    if (b == null) {
      throw new CheckpointException("Tensor " + name + " is not in " + fileName());
    }
    return b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  public String fileName() {
    return path.getFileName().toString();
  }

  public Path path() {
    return path;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
