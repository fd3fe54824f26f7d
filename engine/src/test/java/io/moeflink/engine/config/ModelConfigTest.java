package io.moeflink.engine.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.engine.model.GoldenFixture;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class ModelConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ObjectNode golden() throws Exception {
    return (ObjectNode) JSON.readTree(Files.readString(GoldenFixture.load("bf16").dir().resolve("config.json")));
  }

  @Test
  void readsTheGoldenConfig() throws Exception {
    ModelConfig c = ModelConfig.fromJson(golden());
    assertThat(c.hiddenSize()).isEqualTo(64);
    assertThat(c.hasQueryLora()).isTrue();
    assertThat(c.yarn().factor()).isEqualTo(4.0);
    assertThat(c.isMoeLayer(0)).isFalse();
    assertThat(c.isMoeLayer(1)).isTrue();
    assertThat(c.softmaxScale()).isCloseTo(0.229187, org.assertj.core.data.Offset.offset(1e-6));
  }

  @Test
  void nullQueryLoraRankSelectsTheQProjPath() throws Exception {
    ObjectNode n = golden();
    n.putNull("q_lora_rank");
    assertThat(ModelConfig.fromJson(n).hasQueryLora()).isFalse();
  }

  @Test
  void acceptsRopeTypeAsTheYarnKey() throws Exception {
    ObjectNode n = golden();
    ObjectNode s = (ObjectNode) n.get("rope_scaling");
    s.remove("type");
    s.put("rope_type", "yarn");
    assertThat(ModelConfig.fromJson(n).yarn()).isNotNull();
  }

  @Test
  void rejectsAnotherRouterNamingTheKeyAndWhatIsSupported() throws Exception {
    ObjectNode n = golden();
    n.put("topk_method", "group_limited_greedy");
    assertThatThrownBy(() -> ModelConfig.fromJson(n)).isInstanceOf(ModelConfigException.class)
        .hasMessage("topk_method is \"group_limited_greedy\", only \"noaux_tc\" is supported");
  }

  @Test
  void rejectsGroupsThatDoNotDivideTheExperts() throws Exception {
    ObjectNode n = golden();
    n.put("n_group", 3);
    assertThatThrownBy(() -> ModelConfig.fromJson(n)).hasMessageContaining("n_group is 3");
  }

  @Test
  void rejectsMoreExpertsPerTokenThanTheKeptGroupsHold() throws Exception {
    ObjectNode n = golden();
    n.put("num_experts_per_tok", 9);
    assertThatThrownBy(() -> ModelConfig.fromJson(n)).hasMessageContaining("num_experts_per_tok is 9");
  }

  @Test
  void rejectsAnotherRopeScaling() throws Exception {
    ObjectNode n = golden();
    ((ObjectNode) n.get("rope_scaling")).put("type", "linear");
    assertThatThrownBy(() -> ModelConfig.fromJson(n)).hasMessageContaining("rope_scaling.type is \"linear\"");
  }
}
