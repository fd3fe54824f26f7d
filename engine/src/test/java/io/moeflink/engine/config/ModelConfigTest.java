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
        .hasMessage("topk_method is \"group_limited_greedy\", only \"noaux_tc\" is supported for the DeepSeek-V3"
            + " architecture");
  }

  @Test
  void namesTheFamilyOfEachPublishedLayout() throws Exception {
    assertThat(ModelConfig.fromJson(golden()).family()).isEqualTo(ModelFamily.DEEPSEEK_V3);
    ObjectNode v31 = golden();
    v31.putObject("quantization_config").put("quant_method", "fp8").put("scale_fmt", "ue8m0");
    assertThat(ModelConfig.fromJson(v31).family()).isEqualTo(ModelFamily.DEEPSEEK_V3_1);
    ObjectNode k2 = golden();
    k2.put("model_type", "kimi_k2");
    k2.put("n_group", 1);
    k2.put("topk_group", 1);
    assertThat(ModelConfig.fromJson(k2).family()).isEqualTo(ModelFamily.KIMI_K2);
    ObjectNode moonlight = golden();
    moonlight.put("n_group", 1);
    moonlight.put("topk_group", 1);
    moonlight.putNull("q_lora_rank");
    assertThat(ModelConfig.fromJson(moonlight).family()).isEqualTo(ModelFamily.MOONLIGHT);
    assertThat(ModelConfig.fromJson(moonlight).topkMethod()).isEqualTo(TopkMethod.NOAUX_TC);
    ObjectNode v32 = golden();
    v32.put("model_type", "deepseek_v32");
    v32.putArray("architectures").add("DeepseekV32ForCausalLM");
    v32.put("index_n_heads", 4).put("index_head_dim", 16).put("index_topk", 64);
    ModelConfig c32 = ModelConfig.fromJson(v32);
    assertThat(c32.family()).isEqualTo(ModelFamily.DEEPSEEK_V3_2_EXP);
    assertThat(c32.indexer()).isEqualTo(new SparseIndexer(4, 16, 64));
    assertThat(c32.exactContext()).isEqualTo(64);
    assertThat(c32.summary()).startsWith("DeepSeek-V3.2-Exp: ");
  }

  @Test
  void readsDeepSeekV2sRouterAndItsDefaults() throws Exception {
    ObjectNode v2 = v2Lite();
    ModelConfig lite = ModelConfig.fromJson(v2);
    assertThat(lite.family()).isEqualTo(ModelFamily.DEEPSEEK_V2_LITE);
    assertThat(lite.scoring()).isEqualTo(RouterScoring.SOFTMAX);
    assertThat(lite.topkMethod()).isEqualTo(TopkMethod.GREEDY);
    assertThat(lite.normTopkProb()).isFalse();
    v2.remove("norm_topk_prob");
    assertThat(ModelConfig.fromJson(v2).normTopkProb()).as("DeepseekV2Config's default").isFalse();
    v2.put("topk_method", "group_limited_greedy");
    v2.put("q_lora_rank", 32);
    assertThat(ModelConfig.fromJson(v2).family()).isEqualTo(ModelFamily.DEEPSEEK_V2);
  }

  @Test
  void deepSeekV2sYarnSquaresTheMscaleOfAllDims() throws Exception {
    ObjectNode v2 = v2Lite();
    ObjectNode yarn = (ObjectNode) v2.get("rope_scaling");
    yarn.put("factor", 40).put("mscale", 0.707).put("mscale_all_dim", 0.707);
    double m = 0.1 * 0.707 * Math.log(40) + 1;
    // DeepseekV2Attention: softmax_scale = q_head_dim^-0.5 * m^2; cos/sin get m(mscale)/m(mscale_all_dim) = 1
    assertThat(ModelConfig.fromJson(v2).softmaxScale()).isEqualTo(m * m / Math.sqrt(32));
  }

  @Test
  void refusesWhatItCannotComputeNamingTheKeyAndValue() throws Exception {
    assertRefused("model_type", "mixtral", "model_type is \"mixtral\", expected one of deepseek_v3, deepseek_v32,"
        + " kimi_k2, deepseek_v2");
    assertRefused("scoring_func", "softmax", "scoring_func is \"softmax\", only \"sigmoid\" is supported for the"
        + " DeepSeek-V3 architecture");
    ObjectNode arch = golden();
    arch.putArray("architectures").add("DeepseekV2ForCausalLM");
    assertThatThrownBy(() -> ModelConfig.fromJson(arch)).hasMessage(
        "architectures is [\"DeepseekV2ForCausalLM\"], expected [\"DeepseekV3ForCausalLM\"] for model_type"
            + " \"deepseek_v3\"");
    ObjectNode v2 = v2Lite();
    v2.put("topk_method", "noaux_tc");
    assertThatThrownBy(() -> ModelConfig.fromJson(v2)).hasMessage(
        "topk_method is \"noaux_tc\", only \"greedy\" or \"group_limited_greedy\" is supported for DeepSeek-V2");
    ObjectNode fmt = golden();
    fmt.putObject("quantization_config").put("scale_fmt", "e5m2");
    assertThatThrownBy(() -> ModelConfig.fromJson(fmt)).hasMessage(
        "quantization_config.scale_fmt is \"e5m2\", only \"ue8m0\" (or no scale_fmt) is supported");
    ObjectNode v32 = golden();
    v32.put("model_type", "deepseek_v32");
    v32.remove("architectures");
    assertThatThrownBy(() -> ModelConfig.fromJson(v32)).hasMessage("config.json has no index_n_heads");
  }

  private static void assertRefused(String key, String value, String message) throws Exception {
    ObjectNode n = golden();
    n.put(key, value);
    assertThatThrownBy(() -> ModelConfig.fromJson(n)).isInstanceOf(ModelConfigException.class).hasMessage(message);
  }

  /** The golden config recast as DeepSeek-V2-Lite's keys. */
  private static ObjectNode v2Lite() throws Exception {
    ObjectNode n = golden();
    n.put("model_type", "deepseek_v2");
    n.putArray("architectures").add("DeepseekV2ForCausalLM");
    n.put("scoring_func", "softmax");
    n.put("topk_method", "greedy");
    n.put("norm_topk_prob", false);
    n.put("n_group", 1);
    n.put("topk_group", 1);
    n.putNull("q_lora_rank");
    return n;
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
