package io.moeflink.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.moeflink.engine.generate.LocalExchange;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.moe.MoeDispatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine against DeepSeek's reference implementation on the tiny golden checkpoints: every
 * recorded logit within 1e-4 (about 20x the gap between two correct float32 implementations;
 * every known wrong variant misses by >= 1.3e-2), greedy tokens equal, routed expert sets equal
 * with weights within 1e-5.
 */
class GoldenTest {
  private static final float LOGIT_TOLERANCE = 1e-4f;
  private static final float ROUTING_WEIGHT_TOLERANCE = 1e-5f;

  static Stream<Arguments> variants() {
    return Stream.of("bf16", "fp8").flatMap(v -> Stream.of("scalar", "vector").map(b -> Arguments.of(v, b)));
  }

  static Engine open(String variant, String backend, int shards) throws Exception {
    GoldenFixture f = GoldenFixture.load(variant);
    KernelBackend k = Backends.create(BackendKind.parse(backend), 2, 0);
    Model model = Model.load(f.dir(), k);
    ExpertPlacement placement = ExpertPlacement.balanced(model.config(), shards);
    List<ExpertShard> list = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      list.add(ExpertShard.load(model.checkpoint(), model.config(), placement, s));
    }
    return new Engine(f, model, placement, new LocalExchange(list));
  }

  record Engine(GoldenFixture fixture, Model model, ExpertPlacement placement, LocalExchange exchange)
      implements AutoCloseable {
    float[] step(LatentKvCache cache, int[] tokens) {
      ForwardPass pass = new ForwardPass(model, placement, List.of(new SequenceChunk(cache, tokens, true)));
      exchange.run(pass, model.kernels());
      return pass.logits(0);
    }

    @Override
    public void close() {
      model.kernels().close();
      model.close();
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("variants")
  void prefillLogitsAndGreedyTokensMatchTheReference(String variant, String backend) throws Exception {
    checkPrefillAndGreedyTokens(variant, backend);
  }

  static void checkPrefillAndGreedyTokens(String variant, String backend) throws Exception {
    try (Engine e = open(variant, backend, 2)) {
      for (JsonNode prompt : e.fixture().golden().get("prompts")) {
        int[] tokens = GoldenFixture.ints(prompt.get("tokens"));
        LatentKvCache cache = e.model().newCache();
        float[] logits = e.step(cache, tokens);
        assertClose(logits, GoldenFixture.floats(prompt.get("prefill_last_logits")), LOGIT_TOLERANCE,
            variant + "/" + backend + " prefill of " + tokens.length + " tokens");
        int[] expected = GoldenFixture.ints(prompt.get("generated"));
        int[] generated = new int[expected.length];
        for (int i = 0; i < expected.length; i++) {
          generated[i] = argmax(logits);
          if (i + 1 < expected.length) {
            logits = e.step(cache, new int[] {generated[i]});
          }
        }
        assertThat(generated).as("%s/%s greedy tokens of a %d-token prompt", variant, backend, tokens.length)
            .containsExactly(expected);
      }
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("variants")
  void everyDecodeStepMatchesTheReference(String variant, String backend) throws Exception {
    checkEveryDecodeStep(variant, backend);
  }

  static void checkEveryDecodeStep(String variant, String backend) throws Exception {
    try (Engine e = open(variant, backend, 3)) {
      JsonNode decode = e.fixture().golden().get("decode_logits");
      int[] prompt = GoldenFixture.ints(e.fixture().golden().get("prompts").get(decode.get("prompt").asInt()).get("tokens"));
      LatentKvCache cache = e.model().newCache();
      JsonNode steps = decode.get("steps");
      for (int k = 0; k < steps.size(); k++) {
        JsonNode step = steps.get(k);
        int[] input = k == 0 ? prompt : GoldenFixture.ints(step.get("input"));
        assertThat(cache.length()).isEqualTo(step.get("start_pos").asInt());
        float[] logits = e.step(cache, input);
        assertClose(logits, GoldenFixture.floats(step.get("logits")), LOGIT_TOLERANCE, variant + "/" + backend + " step " + k);
      }
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("variants")
  void routerChoosesTheReferenceExpertsAndWeights(String variant, String backend) throws Exception {
    checkRouter(variant, backend);
  }

  static void checkRouter(String variant, String backend) throws Exception {
    try (Engine e = open(variant, backend, 1)) {
      JsonNode r = e.fixture().golden().get("routing");
      MixtureOfExperts moe = (MixtureOfExperts) e.model().block(r.get("layer").asInt()).feedForward();
      KernelBackend k = e.model().kernels();
      Routing routing = moe.router().route(
          k, k.upload(GoldenFixture.floats(r.get("gate_input"))), 1, k.allocate(e.model().config().nRoutedExperts()));
      assertRouting(routing, 0, r.get("experts"), r.get("weights"), "isolated token");
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("variants")
  void prefillRoutesEveryTokenLikeTheReference(String variant, String backend) throws Exception {
    try (Engine e = open(variant, backend, 2)) {
      int[] tokens = GoldenFixture.ints(e.fixture().golden().get("prompts").get(0).get("tokens"));
      ForwardPass pass = new ForwardPass(e.model(), e.placement(),
          List.of(new SequenceChunk(e.model().newCache(), tokens, true)));
      Map<Integer, Routing> byLayer = new HashMap<>();
      MoeDispatch d;
      while ((d = pass.advance()) != null) {
        byLayer.put(d.layer(), pass.routingInFlight());
        for (int s = 0; s < d.batches().length; s++) {
          if (d.batches()[s] != null) {
            pass.accept(s, e.exchange().shards().get(s).compute(e.model().kernels(), d.batches()[s]));
          }
        }
      }
      for (JsonNode layer : e.fixture().golden().get("routing_prompt0_prefill")) {
        Routing routing = byLayer.get(layer.get("layer").asInt());
        for (int t = 0; t < tokens.length; t++) {
          assertRouting(routing, t, layer.get("experts").get(t), layer.get("weights").get(t),
              "layer " + layer.get("layer") + " token " + t);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("variants")
  void ropeFrequenciesAndSoftmaxScaleMatchTheReference(String variant, String backend) throws Exception {
    try (Engine e = open(variant, backend, 1)) {
      JsonNode derived = e.fixture().golden().get("derived");
      assertThat(e.model().config().softmaxScale()).isCloseTo(derived.get("softmax_scale").asDouble(),
          org.assertj.core.data.Offset.offset(1e-7));
      assertClose(e.model().rope().inverseFrequencies(), GoldenFixture.floats(derived.get("rope_inv_freq")), 1e-9f, "inv_freq");
      for (String pos : List.of("1", "7", "63")) {
        int pairs = e.model().config().qkRopeHeadDim() / 2;
        float[] a = new float[2 * pairs]; // cosines, then sines
        e.model().rope().angles(Integer.parseInt(pos), a, 0);
        assertClose(Arrays.copyOfRange(a, 0, pairs), GoldenFixture.floats(derived.get("rope_cos_sin").get(pos).get("cos")),
            1e-6f, "cos at " + pos);
        assertClose(Arrays.copyOfRange(a, pairs, 2 * pairs),
            GoldenFixture.floats(derived.get("rope_cos_sin").get(pos).get("sin")), 1e-6f, "sin at " + pos);
      }
    }
  }

  private static void assertRouting(Routing routing, int token, JsonNode experts, JsonNode weights, String what) {
    Map<Integer, Float> expected = new HashMap<>();
    for (int j = 0; j < experts.size(); j++) {
      expected.put(experts.get(j).asInt(), GoldenFixture.floats(weights)[j]);
    }
    Map<Integer, Float> actual = new HashMap<>();
    for (int j = 0; j < routing.k(); j++) {
      actual.put(routing.experts()[token * routing.k() + j], routing.weights()[token * routing.k() + j]);
    }
    assertThat(actual.keySet()).as("experts of %s", what).isEqualTo(expected.keySet());
    for (Map.Entry<Integer, Float> en : expected.entrySet()) {
      assertThat(actual.get(en.getKey())).as("weight of expert %d for %s", en.getKey(), what)
          .isCloseTo(en.getValue(), org.assertj.core.data.Offset.offset(ROUTING_WEIGHT_TOLERANCE));
    }
  }

  static void assertClose(float[] actual, float[] expected, float tolerance, String what) {
    assertThat(actual).as("%s: length", what).hasSize(expected.length);
    float worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      float diff = Math.abs(actual[i] - expected[i]);
      if (!(diff <= worst)) {
        worst = diff;
        at = i;
      }
    }
    assertThat(worst).as("%s: max |diff| %s at index %d (actual %s, expected %s)", what, worst, at,
        at < 0 ? "" : actual[at], at < 0 ? "" : expected[at]).isLessThanOrEqualTo(tolerance);
  }

  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }
}
