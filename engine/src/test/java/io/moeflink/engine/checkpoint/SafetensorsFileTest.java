package io.moeflink.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed files fail at open with a clear {@link CheckpointException}, never a crash or OOM. */
class SafetensorsFileTest {
  @TempDir Path dir;

  private Path write(String header, int dataBytes) throws IOException {
    return write(header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
  }

  private Path write(long claimedHeaderLength, String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(claimedHeaderLength).put(h);
    Path p = dir.resolve("model.safetensors");
    Files.write(p, b.array());
    return p;
  }

  @Test
  void readsAValidFile() throws IOException {
    Path p = write("{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}  ", 16);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThat(f.tensors()).containsOnlyKeys("a", "b");
      assertThat(f.tensors().get("a").shape()).containsExactly(2, 3);
      assertThat(f.data("b").remaining()).isEqualTo(4);
    }
  }

  @Test
  void failsOnATruncatedFile() throws IOException {
    Path p = dir.resolve("model.safetensors");
    Files.write(p, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class).hasMessageContaining("truncated");
  }

  @Test
  void failsWhenTheHeaderLengthRunsPastTheEnd() throws IOException {
    Path p = write(5000, "{}", 0);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class)
        .hasMessageContaining("header claims 5000 bytes");
  }

  @Test
  void refusesAnAbsurdHeaderSizeWithoutAllocatingIt() throws IOException {
    Path p = write(Long.MAX_VALUE / 2, "{}", 0);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class)
        .hasMessageContaining("header length");
    Path negative = write(-1, "{}", 0);
    assertThatThrownBy(() -> SafetensorsFile.open(negative)).isInstanceOf(CheckpointException.class);
  }

  @Test
  void failsOnOffsetsOutOfRange() throws IOException {
    Path p = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class)
        .hasMessageContaining("Tensor a").hasMessageContaining("outside the 8 data bytes");
  }

  @Test
  void failsOnOverlappingTensors() throws IOException {
    Path p = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class).hasMessageContaining("overlap");
  }

  @Test
  void failsOnAnUnknownDtype() throws IOException {
    Path p = write("{\"a\":{\"dtype\":\"F8_E5M2\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class)
        .hasMessageContaining("dtype F8_E5M2").hasMessageContaining("F32, BF16, F8_E4M3");
  }

  @Test
  void failsWhenTheByteCountDoesNotMatchTheShape() throws IOException {
    Path p = write("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class)
        .hasMessageContaining("expected 6 for BF16 [3]");
  }

  @Test
  void failsOnAnImpossibleShape() throws IOException {
    Path p = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807,4],\"data_offsets\":[0,8]}}", 8);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class).hasMessageContaining("impossible shape");
  }

  @Test
  void failsOnAHeaderThatIsNotJson() throws IOException {
    Path p = write("{\"a\": [", 0);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(CheckpointException.class).hasMessageContaining("not valid JSON");
  }
}
