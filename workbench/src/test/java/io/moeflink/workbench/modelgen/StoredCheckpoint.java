package io.moeflink.workbench.modelgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.checkpoint.Bf16;
import io.moeflink.engine.checkpoint.Fp8E4M3;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A minimal, independent reader of what the generator wrote, for tests only: the index, every shard
 * header and tensor data decoded to float.
 */
final class StoredCheckpoint {

  /** One tensor as a shard header declares it. */
  record Entry(String file, String dtype, List<Long> shape, long begin, long end, long dataStart) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  final Path dir;
  final JsonNode index;
  final JsonNode config;

  /** Tensors of all shards, by name, in file order. */
  final Map<String, Entry> tensors = new LinkedHashMap<>();

  /** Sum of all tensors' data sizes. */
  long dataBytes;

  private StoredCheckpoint(Path dir) throws IOException {
    this.dir = dir;
    this.index = JSON.readTree(dir.resolve("model.safetensors.index.json").toFile());
    this.config = JSON.readTree(dir.resolve("config.json").toFile());
  }

  static StoredCheckpoint read(Path dir) throws IOException {
    StoredCheckpoint checkpoint = new StoredCheckpoint(dir);
    TreeSet<String> files = new TreeSet<>();
    checkpoint.index.path("weight_map").forEach(file -> files.add(file.asText()));
    for (String file : files) {
      checkpoint.readHeader(file);
    }
    return checkpoint;
  }

  private void readHeader(String file) throws IOException {
    byte[] bytes = Files.readAllBytes(dir.resolve(file));
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength % 8 != 0) {
      throw new IllegalStateException(
          file + ": header length " + headerLength + " not padded to 8");
    }
    JsonNode header = JSON.readTree(new String(bytes, 8, (int) headerLength, "UTF-8"));
    if (!header.path("__metadata__").path("format").asText().equals("pt")) {
      throw new IllegalStateException(file + ": no __metadata__.format pt");
    }
    long expectedBegin = 0;
    var fields = header.fields();
    while (fields.hasNext()) {
      var field = fields.next();
      if (field.getKey().equals("__metadata__")) {
        continue;
      }
      JsonNode node = field.getValue();
      List<Long> shape = new ArrayList<>();
      node.path("shape").forEach(dim -> shape.add(dim.asLong()));
      long begin = node.path("data_offsets").get(0).asLong();
      long end = node.path("data_offsets").get(1).asLong();
      if (begin != expectedBegin) {
        throw new IllegalStateException(file + ": " + field.getKey() + " not contiguous");
      }
      expectedBegin = end;
      Entry entry =
          new Entry(file, node.path("dtype").asText(), shape, begin, end, 8 + headerLength);
      if (tensors.put(field.getKey(), entry) != null) {
        throw new IllegalStateException(field.getKey() + " stored twice");
      }
      dataBytes += end - begin;
    }
    if (bytes.length != 8 + headerLength + expectedBegin) {
      throw new IllegalStateException(
          file + ": file size " + bytes.length + " does not match header");
    }
  }

  ByteBuffer data(String name) throws IOException {
    Entry entry = tensors.get(name);
    ByteBuffer buffer = ByteBuffer.allocate((int) (entry.end() - entry.begin()));
    try (FileChannel channel = FileChannel.open(dir.resolve(entry.file()))) {
      channel.read(buffer, entry.dataStart() + entry.begin());
    }
    return buffer.flip().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Values as a reader sees them: BF16 and F32 decoded, FP8 multiplied by its block scale. */
  float[] floats(String name) throws IOException {
    Entry entry = tensors.get(name);
    ByteBuffer data = data(name);
    switch (entry.dtype()) {
      case "BF16":
        {
          float[] values = new float[data.remaining() / 2];
          for (int i = 0; i < values.length; i++) {
            values[i] = Bf16.decode(data.getShort());
          }
          return values;
        }
      case "F32":
        {
          float[] values = new float[data.remaining() / 4];
          data.asFloatBuffer().get(values);
          return values;
        }
      case "F8_E4M3":
        {
          float[] scales = floats(name + "_scale_inv");
          int cols = entry.shape().get(1).intValue();
          int scaleCols = (cols + 127) / 128;
          float[] values = new float[data.remaining()];
          for (int i = 0; i < values.length; i++) {
            int r = i / cols;
            int c = i % cols;
            values[i] = Fp8E4M3.decode(data.get(i)) * scales[(r / 128) * scaleCols + c / 128];
          }
          return values;
        }
      default:
        throw new IllegalStateException(name + ": unexpected dtype " + entry.dtype());
    }
  }
}
