package io.moeflink.workbench.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.checkpoint.DType;
import io.moeflink.workbench.checkpoint.SafetensorsWriter.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

  @TempDir Path dir;

  private static final List<Tensor> TENSORS =
      List.of(
          Tensor.of("a.weight", DType.F32, 3, 5),
          Tensor.of("b.weight", DType.BF16, 7),
          Tensor.of("c.weight", DType.F8_E4M3, 2, 3),
          Tensor.of("c.weight_scale_inv", DType.F32, 1, 1));

  /** Distinct bytes per tensor so that misplaced data shows. */
  private static byte[] content(Tensor tensor, int salt) {
    byte[] bytes = new byte[(int) tensor.byteSize()];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (salt * 31 + i);
    }
    return bytes;
  }

  @Test
  void writesAHeaderAndContiguousDataThatParseBack() throws IOException {
    Path file = dir.resolve("t.safetensors");
    try (SafetensorsWriter writer = SafetensorsWriter.create(file, TENSORS)) {
      // Out of order, and the first tensor in two pieces, the later piece first.
      for (int t = TENSORS.size() - 1; t >= 1; t--) {
        writer.write(TENSORS.get(t).name(), ByteBuffer.wrap(content(TENSORS.get(t), t)));
      }
      byte[] first = content(TENSORS.get(0), 0);
      writer.write("a.weight", 20, ByteBuffer.wrap(first, 20, first.length - 20));
      writer.write("a.weight", 0, ByteBuffer.wrap(first, 0, 20));
    }

    byte[] bytes = Files.readAllBytes(file);
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(headerLength % 8).isZero();
    String headerText = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
    assertThat(headerText.stripTrailing()).endsWith("}");
    assertThat(headerText.substring(headerText.stripTrailing().length())).isBlank();
    assertThat(headerText.length() - headerText.stripTrailing().length()).isLessThan(8);

    JsonNode header = new ObjectMapper().readTree(headerText);
    assertThat(header.path("__metadata__").path("format").asText()).isEqualTo("pt");
    Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
    assertThat(fields.next().getKey()).isEqualTo("__metadata__");
    long expectedBegin = 0;
    long dataStart = 8 + headerLength;
    for (int t = 0; t < TENSORS.size(); t++) {
      Tensor tensor = TENSORS.get(t);
      Map.Entry<String, JsonNode> field = fields.next();
      assertThat(field.getKey()).isEqualTo(tensor.name());
      JsonNode entry = field.getValue();
      assertThat(entry.path("dtype").asText()).isEqualTo(tensor.dtype().name());
      List<Long> shape = new ArrayList<>();
      entry.path("shape").forEach(dim -> shape.add(dim.asLong()));
      assertThat(shape).isEqualTo(tensor.shape());
      long begin = entry.path("data_offsets").get(0).asLong();
      long end = entry.path("data_offsets").get(1).asLong();
      assertThat(begin).as("offsets of %s", tensor.name()).isEqualTo(expectedBegin);
      assertThat(end - begin).isEqualTo(tensor.byteSize());
      byte[] stored = Arrays.copyOfRange(bytes, (int) (dataStart + begin), (int) (dataStart + end));
      assertThat(stored).isEqualTo(content(tensor, t));
      expectedBegin = end;
    }
    assertThat(fields.hasNext()).isFalse();
    assertThat((long) bytes.length).isEqualTo(dataStart + expectedBegin);
  }

  @Test
  void writesAnEmptyFileWithOnlyMetadata() throws IOException {
    Path file = dir.resolve("empty.safetensors");
    try (SafetensorsWriter writer = SafetensorsWriter.create(file, List.of())) {
      assertThat(writer.toString()).contains("0 tensors");
    }
    byte[] bytes = Files.readAllBytes(file);
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(bytes.length).isEqualTo(8 + headerLength);
  }

  @Test
  void failsOnCloseWhenATensorWasNotFullyWritten() throws IOException {
    SafetensorsWriter writer = SafetensorsWriter.create(dir.resolve("short.safetensors"), TENSORS);
    writer.write("b.weight", ByteBuffer.wrap(content(TENSORS.get(1), 1)));
    assertThatThrownBy(writer::close)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a.weight")
        .hasMessageContaining("received 0 bytes, expected 60");
  }

  @Test
  void rejectsWritesOutsideATensorAndUndeclaredNames() throws IOException {
    try (SafetensorsWriter writer =
        SafetensorsWriter.create(dir.resolve("bad.safetensors"), List.of(TENSORS.get(1)))) {
      assertThatThrownBy(() -> writer.write("b.weight", 10, ByteBuffer.allocate(6)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("outside tensor b.weight of 14 bytes");
      assertThatThrownBy(() -> writer.write("b.weight", ByteBuffer.allocate(13)))
          .hasMessageContaining("needs 14 bytes, got 13");
      assertThatThrownBy(() -> writer.write("nope", ByteBuffer.allocate(1)))
          .hasMessageContaining("nope was not declared");
      writer.write("b.weight", ByteBuffer.allocate(14));
    }
  }

  @Test
  void rejectsDuplicateNames() {
    List<Tensor> twice = List.of(TENSORS.get(1), TENSORS.get(1));
    assertThatThrownBy(() -> SafetensorsWriter.create(dir.resolve("dup.safetensors"), twice))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("b.weight declared twice");
  }
}
