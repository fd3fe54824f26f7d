package io.moeflink.jobs;

import io.moeflink.schemas.ChatMessage;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Requests the job tests publish: ids {@code r00, r01, ...}, a mix of prompt kinds and sampling settings. */
final class TestRequests {
  private TestRequests() {}

  /** {@code n} short requests: text prompts, chat messages and token ids; greedy and sampled. */
  static List<InferenceRequest> good(int n) {
    List<InferenceRequest> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      InferenceRequest.Builder b = InferenceRequest.newBuilder().setId(String.format("r%02d", i))
          .setMetadata(Map.of("i", String.valueOf(i)));
      switch (i % 3) {
        case 0 -> b.setPrompt("Request number " + i + " says hello");
        case 1 -> b.setMessages(List.of(new ChatMessage("user", "Tell me about expert " + i)));
        default -> b.setPromptTokenIds(List.of(0, 100 + i, 2000 + i, 30000 + i));
      }
      b.setSampling(SamplingParams.newBuilder().setMaxTokens(6 + i % 7)
          .setTemperature(i % 2 == 0 ? 0f : 0.8f).setSeed((long) i).build());
      list.add(b.build());
    }
    return list;
  }

  /** Requests whose lengths differ a lot ({@code 4 + 5 i} tokens), so that some are in flight when others finish. */
  static List<InferenceRequest> ofGrowingLength(int n) {
    List<InferenceRequest> list = new ArrayList<>();
    for (InferenceRequest r : good(n)) {
      int i = Integer.parseInt(r.getId().substring(1));
      r.getSampling().setMaxTokens(4 + 5 * i);
      list.add(r);
    }
    return list;
  }
}
