package io.moeflink.workbench.families;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A compact float64 forward pass of the DeepSeek-V3 family, for tests: it reads only {@code
 * config.json} and the safetensors files (its own reader, none of the engine's classes) and follows
 * DeepSeek's reference math as {@code ../shared/golden/README.md} and {@code check_numpy.py} state
 * it, with the routers of the V2 reference code: softmax scores, a group's maximum, greedy top-k.
 * No KV cache: every call recomputes the whole sequence, naive (not absorbed) attention.
 */
final class Float64Reference {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JsonNode c;
  private final Map<String, double[]> w = new HashMap<>();
  private final int heads;
  private final int nope;
  private final int rope;
  private final int vDim;
  private final double eps;
  private final float[] invFreq; // (rope / 2), float32 like the reference
  private final double softmaxScale;
  private final double cosSinScale;

  /** Per MoE layer, per token of the last forward: the chosen experts and their weights. */
  final Map<Integer, List<Map<Integer, Double>>> routes = new HashMap<>();

  Float64Reference(Path dir) throws IOException {
    c = JSON.readTree(dir.resolve("config.json").toFile());
    JsonNode map = JSON.readTree(dir.resolve("model.safetensors.index.json").toFile()).get("weight_map");
    TreeSet<String> files = new TreeSet<>();
    map.forEach(f -> files.add(f.asText()));
    Map<String, String> fp8Dtypes = new HashMap<>();
    for (String f : files) {
      read(dir.resolve(f), fp8Dtypes);
    }
    int block = c.path("quantization_config").path("weight_block_size").path(0).asInt(128);
    for (String name : fp8Dtypes.keySet()) {
      dequantize(name, block);
    }
    heads = c.get("num_attention_heads").asInt();
    nope = c.get("qk_nope_head_dim").asInt();
    rope = c.get("qk_rope_head_dim").asInt();
    vDim = c.get("v_head_dim").asInt();
    eps = c.get("rms_norm_eps").asDouble();
    double theta = c.get("rope_theta").asDouble();
    invFreq = new float[rope / 2];
    for (int i = 0; i < rope / 2; i++) {
      invFreq[i] = (float) (1.0 / Math.pow((float) theta, (float) (2 * i) / rope));
    }
    double scale = Math.pow(nope + rope, -0.5);
    double csMul = 1;
    JsonNode rs = c.get("rope_scaling");
    if (rs != null && !rs.isNull()) {
      double f = rs.get("factor").asDouble();
      int l0 = rs.get("original_max_position_embeddings").asInt();
      double lo = Math.max(Math.floor(corr(rs.get("beta_fast").asDouble(), l0, theta)), 0);
      double hi = Math.min(Math.ceil(corr(rs.get("beta_slow").asDouble(), l0, theta)), rope - 1);
      if (lo == hi) {
        hi += 0.001;
      }
      for (int i = 0; i < rope / 2; i++) {
        float ramp = (float) Math.min(1, Math.max(0, (i - lo) / (hi - lo)));
        invFreq[i] = invFreq[i] / (float) f * ramp + invFreq[i] * (1 - ramp);
      }
      double mAll = rs.path("mscale_all_dim").asDouble(0);
      if (mAll != 0 && f > 1) {
        double m = 0.1 * mAll * Math.log(f) + 1;
        scale *= m * m;
        csMul = (0.1 * rs.path("mscale").asDouble(1) * Math.log(f) + 1) / m;
      }
    }
    softmaxScale = scale;
    cosSinScale = csMul;
  }

  private double corr(double rotations, int l0, double theta) {
    return rope * Math.log(l0 / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
  }

  /**
   * FP8 weights: {@code e4m3(code) * scale_inv} of the code's 128x128 block, the product taken in
   * float32 as the reference does; the E4M3 value is decoded here (sign, 4-bit exponent bias 7,
   * 3-bit mantissa, exponent 0 subnormal).
   */
  private void dequantize(String name, int block) {
    double[] codes = w.get(name);
    double[] scales = w.remove(name + "_scale_inv");
    int cols = shapes.get(name)[1];
    int scaleCols = (cols + block - 1) / block;
    for (int i = 0; i < codes.length; i++) {
      int code = (int) codes[i];
      int e = (code >> 3) & 0xf;
      int m = code & 7;
      double v = e == 0 ? m / 8.0 * Math.pow(2, -6) : (1 + m / 8.0) * Math.pow(2, e - 7);
      v = (code & 0x80) != 0 ? -v : v;
      codes[i] = (float) v * (float) scales[(i / cols / block) * scaleCols + (i % cols) / block];
    }
  }

  private final Map<String, int[]> shapes = new HashMap<>();

  private void read(Path file, Map<String, String> fp8) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer all = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) all.getLong(0);
    JsonNode header = JSON.readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      long begin = 8L + n + e.getValue().get("data_offsets").get(0).asLong();
      long end = 8L + n + e.getValue().get("data_offsets").get(1).asLong();
      String dtype = e.getValue().get("dtype").asText();
      int size = dtype.equals("BF16") ? 2 : dtype.equals("F8_E4M3") ? 1 : 4;
      JsonNode shape = e.getValue().get("shape");
      shapes.put(e.getKey(), new int[] {shape.get(0).asInt(), shape.size() > 1 ? shape.get(1).asInt() : 1});
      if (dtype.equals("F8_E4M3")) {
        fp8.put(e.getKey(), dtype);
      }
      double[] v = new double[(int) ((end - begin) / size)];
      for (int i = 0; i < v.length; i++) {
        int at = (int) begin + i * size;
        v[i] = switch (dtype) {
          case "BF16" -> Float.intBitsToFloat((all.getShort(at) & 0xffff) << 16);
          case "F32" -> all.getFloat(at);
          case "F8_E4M3" -> all.get(at) & 0xff; // the code, decoded with its scale below
          default -> throw new IllegalArgumentException(e.getKey() + ": the reference reads BF16, F32, F8_E4M3, not " + dtype);
        };
      }
      w.put(e.getKey(), v);
    }
  }

  /** The stored values of the F32 tensor {@code name} of the checkpoint in {@code dir}. */
  static float[] f32(Path dir, String name) throws IOException {
    String file = JSON.readTree(dir.resolve("model.safetensors.index.json").toFile()).get("weight_map").get(name).asText();
    byte[] bytes = Files.readAllBytes(dir.resolve(file));
    ByteBuffer all = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) all.getLong(0);
    JsonNode meta = JSON.readTree(new String(bytes, 8, n, StandardCharsets.UTF_8)).get(name);
    long begin = 8L + n + meta.get("data_offsets").get(0).asLong();
    float[] v = new float[(int) ((meta.get("data_offsets").get(1).asLong() - meta.get("data_offsets").get(0).asLong()) / 4)];
    for (int i = 0; i < v.length; i++) {
      v[i] = all.getFloat((int) begin + 4 * i);
    }
    return v;
  }

  /** Logits of the last position of {@code tokens} (positions 0..). */
  double[] forward(int[] tokens) {
    int t = tokens.length;
    int d = c.get("hidden_size").asInt();
    double[][] h = new double[t][];
    for (int i = 0; i < t; i++) {
      h[i] = java.util.Arrays.copyOfRange(w.get("model.embed_tokens.weight"), tokens[i] * d, (tokens[i] + 1) * d);
    }
    routes.clear();
    for (int l = 0; l < c.get("num_hidden_layers").asInt(); l++) {
      String p = "model.layers." + l + ".";
      add(h, attention(rms(h, w.get(p + "input_layernorm.weight")), l));
      double[][] x = rms(h, w.get(p + "post_attention_layernorm.weight"));
      add(h, l < c.get("first_k_dense_replace").asInt() ? mlp(x, p + "mlp.") : moe(x, l));
    }
    double[][] last = rms(new double[][] {h[t - 1]}, w.get("model.norm.weight"));
    return linear(last, "lm_head.weight")[0];
  }

  private double[][] attention(double[][] x, int l) {
    String p = "model.layers." + l + ".self_attn.";
    int t = x.length;
    int rank = c.get("kv_lora_rank").asInt();
    double[][] q = c.path("q_lora_rank").isNull() || !c.has("q_lora_rank")
        ? linear(x, p + "q_proj.weight")
        : linear(rms(linear(x, p + "q_a_proj.weight"), w.get(p + "q_a_layernorm.weight")), p + "q_b_proj.weight");
    double[][] kva = linear(x, p + "kv_a_proj_with_mqa.weight");
    double[][] latent = new double[t][];
    double[][] kPe = new double[t][];
    for (int i = 0; i < t; i++) {
      latent[i] = java.util.Arrays.copyOf(kva[i], rank);
      kPe[i] = rotate(java.util.Arrays.copyOfRange(kva[i], rank, rank + rope), i);
    }
    double[][] kv = linear(rms(latent, w.get(p + "kv_a_layernorm.weight")), p + "kv_b_proj.weight"); // (t, H*(dn+dv))
    double[][] out = new double[t][heads * vDim];
    for (int hd = 0; hd < heads; hd++) {
      for (int i = 0; i < t; i++) {
        int qo = hd * (nope + rope);
        double[] qPe = rotate(java.util.Arrays.copyOfRange(q[i], qo + nope, qo + nope + rope), i);
        double[] s = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
          double dot = 0;
          for (int k = 0; k < nope; k++) {
            dot += q[i][qo + k] * kv[j][hd * (nope + vDim) + k];
          }
          for (int k = 0; k < rope; k++) {
            dot += qPe[k] * kPe[j][k];
          }
          s[j] = dot * softmaxScale;
          max = Math.max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j <= i; j++) {
          s[j] = Math.exp(s[j] - max);
          sum += s[j];
        }
        for (int j = 0; j <= i; j++) {
          for (int k = 0; k < vDim; k++) {
            out[i][hd * vDim + k] += s[j] / sum * kv[j][hd * (nope + vDim) + nope + k];
          }
        }
      }
    }
    return linear(out, p + "o_proj.weight");
  }

  /** Interleaved pairs {@code (x[2i], x[2i+1])} rotated by {@code pos * f_i} (angle in float32). */
  private double[] rotate(double[] x, int pos) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length / 2; i++) {
      double angle = (float) pos * invFreq[i];
      double cos = Math.cos(angle) * cosSinScale;
      double sin = Math.sin(angle) * cosSinScale;
      y[2 * i] = x[2 * i] * cos - x[2 * i + 1] * sin;
      y[2 * i + 1] = x[2 * i] * sin + x[2 * i + 1] * cos;
    }
    return y;
  }

  private double[][] moe(double[][] x, int l) {
    String p = "model.layers." + l + ".mlp.";
    double[][] y = mlp(x, p + "shared_experts.");
    List<Map<Integer, Double>> chosen = new ArrayList<>();
    double[][] logits = linear(x, p + "gate.weight");
    for (int i = 0; i < x.length; i++) {
      Map<Integer, Double> route = route(logits[i], w.get(p + "gate.e_score_correction_bias"));
      chosen.add(route);
      for (Map.Entry<Integer, Double> e : route.entrySet()) {
        double[] out = mlp(new double[][] {x[i]}, p + "experts." + e.getKey() + ".")[0];
        for (int k = 0; k < out.length; k++) {
          y[i][k] += e.getValue() * out[k];
        }
      }
    }
    routes.put(l, chosen);
    return y;
  }

  /** The reference {@code Gate}: scores, selection scores, groups, top-k, weights. */
  private Map<Integer, Double> route(double[] logits, double[] bias) {
    int e = logits.length;
    double[] s = new double[e];
    if (c.get("scoring_func").asText().equals("softmax")) {
      double max = java.util.Arrays.stream(logits).max().orElseThrow();
      double sum = 0;
      for (int j = 0; j < e; j++) {
        s[j] = Math.exp(logits[j] - max);
        sum += s[j];
      }
      for (int j = 0; j < e; j++) {
        s[j] /= sum;
      }
    } else {
      for (int j = 0; j < e; j++) {
        s[j] = 1 / (1 + Math.exp(-logits[j]));
      }
    }
    String method = c.get("topk_method").asText();
    double[] sel = s.clone();
    if (method.equals("noaux_tc")) {
      for (int j = 0; j < e; j++) {
        sel[j] += bias[j];
      }
    }
    if (!method.equals("greedy")) {
      int groups = c.get("n_group").asInt();
      int per = e / groups;
      double[] gs = new double[groups];
      for (int g = 0; g < groups; g++) {
        double[] in = java.util.Arrays.copyOfRange(sel, g * per, (g + 1) * per);
        java.util.Arrays.sort(in);
        gs[g] = method.equals("noaux_tc") ? in[per - 1] + in[per - 2] : in[per - 1];
      }
      boolean[] kept = new boolean[groups];
      for (int g : top(gs, c.get("topk_group").asInt())) {
        kept[g] = true;
      }
      for (int j = 0; j < e; j++) {
        sel[j] = kept[j / per] ? sel[j] : Double.NEGATIVE_INFINITY;
      }
    }
    int[] idx = top(sel, c.get("num_experts_per_tok").asInt());
    double sum = 0;
    for (int j : idx) {
      sum += s[j];
    }
    Map<Integer, Double> route = new java.util.TreeMap<>();
    for (int j : idx) {
      double weight = c.get("norm_topk_prob").asBoolean() ? s[j] / sum : s[j];
      route.put(j, weight * c.get("routed_scaling_factor").asDouble());
    }
    return route;
  }

  private static int[] top(double[] v, int k) {
    return java.util.stream.IntStream.range(0, v.length).boxed()
        .sorted((a, b) -> Double.compare(v[b], v[a])).limit(k).mapToInt(Integer::intValue).toArray();
  }

  private double[][] mlp(double[][] x, String p) {
    double[][] g = linear(x, p + "gate_proj.weight");
    double[][] u = linear(x, p + "up_proj.weight");
    for (int i = 0; i < g.length; i++) {
      for (int k = 0; k < g[i].length; k++) {
        g[i][k] = g[i][k] / (1 + Math.exp(-g[i][k])) * u[i][k];
      }
    }
    return linear(g, p + "down_proj.weight");
  }

  /** {@code y = W x} per row, {@code W} stored (out, in). */
  private double[][] linear(double[][] x, String name) {
    double[] m = w.get(name);
    if (m == null) {
      throw new IllegalArgumentException("No tensor " + name);
    }
    int in = x[0].length;
    int out = m.length / in;
    double[][] y = new double[x.length][out];
    for (int i = 0; i < x.length; i++) {
      for (int o = 0; o < out; o++) {
        double acc = 0;
        for (int k = 0; k < in; k++) {
          acc += m[o * in + k] * x[i][k];
        }
        y[i][o] = acc;
      }
    }
    return y;
  }

  private double[][] rms(double[][] x, double[] weight) {
    double[][] y = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double ss = 0;
      for (double v : x[i]) {
        ss += v * v;
      }
      double inv = 1 / Math.sqrt(ss / x[i].length + eps);
      y[i] = new double[x[i].length];
      for (int k = 0; k < x[i].length; k++) {
        y[i][k] = x[i][k] * inv * weight[k];
      }
    }
    return y;
  }

  private static void add(double[][] h, double[][] delta) {
    for (int i = 0; i < h.length; i++) {
      for (int k = 0; k < h[i].length; k++) {
        h[i][k] += delta[i][k];
      }
    }
  }
}
