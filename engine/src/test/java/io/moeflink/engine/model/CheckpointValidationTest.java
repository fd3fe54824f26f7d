package io.moeflink.engine.model;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.kernel.ScalarBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint that does not match its config fails at load, naming tensor, file, actual and expected. */
class CheckpointValidationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  private Path copyOfGolden(String variant) throws IOException {
    Path source = GoldenFixture.load(variant).dir();
    try (Stream<Path> files = Files.list(source)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        dir.resolve(f.getFileName()).toFile().setWritable(true);
      }
    }
    return dir;
  }

  private void edit(Path file, Consumer<ObjectNode> change) throws IOException {
    ObjectNode n = (ObjectNode) JSON.readTree(file.toFile());
    change.accept(n);
    JSON.writeValue(file.toFile(), n);
  }

  private void assertLoadFails(String... messageParts) {
    assertThatThrownBy(() -> {
      try (ScalarBackend k = new ScalarBackend(1)) {
        Model.load(dir, k).close();
      }
    }).isInstanceOf(CheckpointException.class).satisfies(e -> {
      for (String part : messageParts) {
        org.assertj.core.api.Assertions.assertThat(e.getMessage()).contains(part);
      }
    });
  }

  @Test
  void failsWhenATensorIsMissing() throws IOException {
    copyOfGolden("bf16");
    edit(dir.resolve("model.safetensors.index.json"),
        n -> ((ObjectNode) n.get("weight_map")).remove("model.layers.2.mlp.experts.5.up_proj.weight"));
    assertLoadFails("missing", "model.layers.2.mlp.experts.5.up_proj.weight");
  }

  @Test
  void failsWhenAnFp8ScaleIsMissing() throws IOException {
    copyOfGolden("fp8");
    edit(dir.resolve("model.safetensors.index.json"),
        n -> ((ObjectNode) n.get("weight_map")).remove("model.layers.1.self_attn.o_proj.weight_scale_inv"));
    assertLoadFails("missing", "model.layers.1.self_attn.o_proj.weight_scale_inv");
  }

  @Test
  void failsOnATensorOfTheWrongShapeNamingFileActualAndExpected() throws IOException {
    copyOfGolden("bf16");
    edit(dir.resolve("config.json"), n -> n.put("intermediate_size", 190));
    assertLoadFails("Tensor model.layers.0.mlp.gate_proj.weight in model-0000", "has shape [192, 64], expected [190, 64]");
  }

  @Test
  void failsOnUnexpectedTensors() throws IOException {
    copyOfGolden("bf16");
    edit(dir.resolve("config.json"), n -> n.put("n_shared_experts", 0));
    assertLoadFails("unexpected", "shared_experts");
  }

  @Test
  void failsWhenTheIndexNamesAFileThatIsNotThere() throws IOException {
    copyOfGolden("bf16");
    edit(dir.resolve("model.safetensors.index.json"),
        n -> ((ObjectNode) n.get("weight_map")).put("lm_head.weight", "model-00009-of-00009.safetensors"));
    assertLoadFails("model-00009-of-00009.safetensors");
  }

  @Test
  void failsOnATruncatedShard() throws IOException {
    copyOfGolden("bf16");
    Path shard = dir.resolve("model-00002-of-00002.safetensors");
    byte[] bytes = Files.readAllBytes(shard);
    Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    assertLoadFails("model-00002-of-00002.safetensors");
  }
}
