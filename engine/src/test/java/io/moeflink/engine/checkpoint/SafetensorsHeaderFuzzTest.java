package io.moeflink.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arbitrary;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Property-based fuzzing of the safetensors header parser with QuickTheories (a fixed seed, so a
 * failure reproduces): valid headers with one
 * entry mutated (dtype, shape, offsets replaced by values of any JSON type, extreme numbers,
 * fractions, overlaps, a header cut short or with bytes inserted) and whole files with random
 * header lengths. The documented rejection is {@link CheckpointException}; any other exception
 * fails the property, and so does a header accepted with a tensor whose bytes do not match its
 * dtype and shape or lie outside the data.
 */
class SafetensorsHeaderFuzzTest {

  private static final String[] DTYPES = {"BF16", "F32", "F16", "F8_E4M3", "I8", "I32", "U8", "F64", "bf16", ""};
  private static Path dir;

  @BeforeAll
  static void makeDirectory() throws IOException {
    dir = Files.createTempDirectory("safetensors-fuzz");
  }

  @AfterAll
  static void removeDirectory() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
  }

  private static final long SEED = 20261201L;

  @Test
  void headersAreAcceptedConsistentlyOrRejectedAsCheckpointExceptions() {
    qt().withFixedSeed(SEED).withExamples(4000).forAll(longs().all())
        .checkAssert(seed -> headerIsAcceptedConsistentlyOrRejected(header(new Random(seed))));
  }

  private static void headerIsAcceptedConsistentlyOrRejected(String header) {
    long dataSize = 4096;
    Map<String, TensorInfo> tensors;
    try {
      tensors = SafetensorsFile.parseHeader(header, "fuzz.safetensors", dataSize);
    } catch (CheckpointException rejected) {
      return;
    }
    for (TensorInfo t : tensors.values()) {
      assertThat(t.begin()).isBetween(0L, t.end());
      assertThat(t.end()).isLessThanOrEqualTo(dataSize);
      assertThat(t.end() - t.begin()).isEqualTo(t.elementCount() * t.dtype().bytes());
    }
  }

  @Test
  void filesOpenOrAreRejectedAsCheckpointExceptions() {
    qt().withFixedSeed(SEED).withExamples(300).forAll(longs().all()).checkAssert(seed -> {
      try {
        fileOpensOrIsRejected(file(new Random(seed)));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  private static void fileOpensOrIsRejected(byte[] content) throws IOException {
    Path file = Files.write(dir.resolve("f.safetensors"), content);
    try (SafetensorsFile opened = SafetensorsFile.open(file)) {
      assertThat(opened.tensors()).isNotNull();
    } catch (CheckpointException rejected) {
      assertThat(rejected.getMessage()).contains("f.safetensors");
    }
  }

  @Test
  void fractionalShapesAndOffsetsAreRejected() {
    qt().withFixedSeed(SEED).withExamples(50).forAll(FRACTIONS).checkAssert(header ->
        assertThatThrownBy(() -> SafetensorsFile.parseHeader(header, "fuzz.safetensors", 4096))
            .isInstanceOf(CheckpointException.class));
  }

  private static final org.quicktheories.core.Gen<String> FRACTIONS = arbitrary().pick(java.util.List.of(
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0.5,8]}}",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}"));

  private static byte[] file(Random random) {
    byte[] header = header(random).getBytes(StandardCharsets.UTF_8);
    long declared = switch (random.nextInt(6)) {
      case 0 -> -1 - random.nextInt(1000);
      case 1 -> Long.MAX_VALUE - random.nextInt(10);
      case 2 -> header.length + random.nextInt(100);
      case 3 -> random.nextInt(2);
      default -> header.length;
    };
    int dataBytes = random.nextInt(200);
    ByteBuffer b = ByteBuffer.allocate(random.nextInt(10) == 0 ? random.nextInt(8) : 8 + header.length + dataBytes)
        .order(ByteOrder.LITTLE_ENDIAN);
    if (b.capacity() >= 8) {
      b.putLong(declared).put(header);
    }
    return b.array();
  }

  /** A header of up to three tensors, then one mutation. */
  private static String header(Random random) {
    StringBuilder json = new StringBuilder("{");
    if (random.nextInt(4) == 0) {
      json.append("\"__metadata__\":{\"format\":\"pt\"},");
    }
    long offset = 0;
    int tensors = random.nextInt(4);
    for (int i = 0; i < tensors; i++) {
      int rows = 1 + random.nextInt(8);
      int cols = 1 + random.nextInt(8);
      String dtype = random.nextInt(10) == 0 ? DTYPES[random.nextInt(DTYPES.length)] : "F32";
      long bytes = (long) rows * cols * 4;
      json.append(i > 0 ? "," : "").append("\"t").append(i).append("\":{\"dtype\":\"").append(dtype)
          .append("\",\"shape\":[").append(rows).append(',').append(cols).append("],\"data_offsets\":[")
          .append(offset).append(',').append(offset + bytes).append("]}");
      offset += random.nextInt(5) == 0 ? bytes / 2 : bytes; // sometimes overlapping
    }
    String valid = json.append('}').toString();
    String[] values = {"null", "true", "-1", "0", "1.5", "1e30", "9223372036854775807", "-9223372036854775808",
        "18446744073709551616", "\"x\"", "[]", "[1]", "[1,2,3]", "{}", "[-1,2]", "[4294967296,4294967296]", "[0,0]"};
    return switch (random.nextInt(8)) {
      case 0 -> valid.replaceFirst("\"shape\":\\[[^]]*]", "\"shape\":" + values[random.nextInt(values.length)]);
      case 1 -> valid.replaceFirst("\"data_offsets\":\\[[^]]*]", "\"data_offsets\":" + values[random.nextInt(values.length)]);
      case 2 -> valid.replaceFirst("\"dtype\":\"[^\"]*\"", "\"dtype\":" + values[random.nextInt(values.length)]);
      case 3 -> valid.substring(0, random.nextInt(valid.length() + 1));
      case 4 -> valid.replaceFirst("\\{\"t0\":", "{\"t0\":" + values[random.nextInt(values.length)] + ",\"t9\":");
      case 5 -> values[random.nextInt(values.length)];
      case 6 -> "[".repeat(1 + random.nextInt(3000));
      default -> valid;
    };
  }
}
