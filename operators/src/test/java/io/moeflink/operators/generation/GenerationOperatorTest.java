package io.moeflink.operators.generation;

import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.structured.StructuredOutput;
import io.moeflink.engine.tokenizer.Tokenizer;
import io.moeflink.workbench.bench.StructuredSchemas;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.testing.TestModels;
import io.moeflink.operators.GenerationOutput;
import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.ModelSpec;
import io.moeflink.operators.OperatorTestSupport;
import io.moeflink.operators.admission.AdmissionOrder;
import io.moeflink.operators.admission.TenantWeights;
import io.moeflink.operators.loop.ExpertReply;
import io.moeflink.operators.loop.ExpertRequest;
import io.moeflink.operators.loop.FeedbackChannel;
import io.moeflink.operators.loop.FeedbackKey;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generation operator in Flink's operator test harness, with a real expert shard answering on
 * a background thread through the feedback channel (as the tail would).
 */
@org.junit.jupiter.api.Timeout(120)
class GenerationOperatorTest {
  private static final int CAPACITY = 2;
  /** Requests the operator holds waiting beyond its CAPACITY in-flight sequences. */
  private static final int WAITING = 1;
  @TempDir static Path tmp;
  private static Path modelDir;

  private Shard shard;

  /** Answers every request the operator emits, on its own thread, through the channel. */
  private static final class Shard implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    Shard(OneInputStreamOperatorTestHarness<GenerationTask, GenerationOutput> harness) throws Exception {
      this(harness, modelDir, false);
    }

    Shard(OneInputStreamOperatorTestHarness<GenerationTask, GenerationOutput> harness, Path dir, boolean mtp)
        throws Exception {
      ModelConfig config = ModelConfig.load(dir);
      KernelBackend kernels = Backends.cpu(BackendKind.AUTO, 1);
      Checkpoint ck = Checkpoint.open(dir);
      ExpertShard experts = ExpertShard.load(ck, config, ExpertPlacement.balanced(config, 1), 0, mtp);
      GenerationOperator op = (GenerationOperator) harness.getOperator();
      FeedbackChannel<ExpertReply> channel = FeedbackChannel.of(op.channelKey());
      thread = new Thread(() -> {
        while (running.get()) {
          // the harness creates the side-output queue on the first emission
          ConcurrentLinkedQueue<StreamRecord<ExpertRequest>> requests =
              harness.getSideOutput(GenerationOperator.EXPERT_REQUESTS);
          StreamRecord<ExpertRequest> r = requests == null ? null : requests.poll();
          if (r == null) {
            Thread.onSpinWait();
            continue;
          }
          ExpertRequest q = r.getValue();
          channel.put(new ExpertReply(q.origin(), q.step(), q.shard(), experts.compute(kernels, q.batch())));
        }
        kernels.close();
        ck.close();
      });
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      thread.join();
    }
  }

  @BeforeEach
  void model() {
    if (modelDir == null) {
      modelDir = TestModels.golden("bf16", tmp.resolve("bf16"));
    }
  }

  @AfterEach
  void stopShard() throws InterruptedException {
    if (shard != null) {
      shard.close();
      shard = null;
    }
  }

  private static OneInputStreamOperatorTestHarness<GenerationTask, GenerationOutput> harness() throws Exception {
    return harness(modelDir, false);
  }

  private static OneInputStreamOperatorTestHarness<GenerationTask, GenerationOutput> harness(Path dir, boolean mtp)
      throws Exception {
    return harness(dir, mtp, CAPACITY, new AdmissionOrder(WAITING, TenantWeights.EQUAL), 0);
  }

  private static OneInputStreamOperatorTestHarness<GenerationTask, GenerationOutput> harness(
      Path dir, boolean mtp, int capacity, AdmissionOrder order, long prefixCacheBytes) throws Exception {
    ModelSpec spec = ModelSpec.builder().modelDir(dir.toString()).threads(1).expertShards(1).mtp(mtp).build();
    return new OneInputStreamOperatorTestHarness<>(
        new GenerationOperatorFactory(spec, new SchedulerLimits(capacity, 16), "test", order, prefixCacheBytes),
        GenerationTask.TYPE.createSerializer(null));
  }

  /** Runs the mails that arrived while the operator was not yielding. */
  private static void runMails(OneInputStreamOperatorTestHarness<?, ?> h, int atLeast) throws Exception {
    long deadline = System.nanoTime() + 30_000_000_000L;
    int ran = 0;
    while (ran < atLeast && System.nanoTime() < deadline) {
      var mail = h.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY);
      if (mail.isPresent()) {
        mail.get().run();
        ran++;
      } else {
        Thread.onSpinWait();
      }
    }
  }

  @Test
  void backPressureHoldsInFlightSequencesAtTheCapacityAndEveryRequestCompletes() throws Exception {
    List<GenerationTask> tasks = OperatorTestSupport.tasks(7, 512);
    try (var h = harness()) {
      h.open();
      shard = new Shard(h);
      GenerationOperator op = (GenerationOperator) h.getOperator();
      int peak = 0;
      for (GenerationTask t : tasks) {
        h.processElement(t, 0);
        peak = Math.max(peak, op.inFlight());
        assertThat(op.inFlight()).isLessThanOrEqualTo(CAPACITY);
      }
      assertThat(peak).isEqualTo(CAPACITY);
      h.endInput();
      assertThat(op.inFlight()).isZero();
      assertThat(OperatorTestSupport.byId(h.extractOutputValues()))
          .isEqualTo(OperatorTestSupport.engineTokens(modelDir, tasks));
    }
  }

  @Test
  void restoredSequencesReprefillAndFinishWithTheSameTokens() throws Exception {
    List<GenerationTask> tasks = OperatorTestSupport.tasks(2, 512);
    OperatorSubtaskState snapshot;
    try (var h = harness()) {
      h.open();
      shard = new Shard(h);
      for (GenerationTask t : tasks) {
        h.processElement(t, 0);
      }
      runMails(h, 5); // five MoE layers (2 per step): two tokens each, none has finished
      assertThat(h.extractOutputValues()).isEmpty();
      snapshot = h.snapshot(1, 1);
      shard.close();
      shard = null;
    }
    try (var h = harness()) {
      h.initializeState(snapshot);
      h.open();
      assertThat(((GenerationOperator) h.getOperator()).inFlight()).isEqualTo(2);
      shard = new Shard(h);
      h.endInput();
      Map<String, List<Integer>> restored = OperatorTestSupport.byId(h.extractOutputValues());
      assertThat(restored).isEqualTo(OperatorTestSupport.engineTokens(modelDir, tasks));
    }
  }

  /**
   * A structured-output sequence snapshotted mid-value replays its generated tokens through the
   * automaton on restore: it finishes with the tokens of an uninterrupted run, and valid JSON.
   */
  @Test
  void constrainedSequencesResumeTheirConstraintAfterARestore() throws Exception {
    Path tiny = tmp.resolve("tiny-json");
    if (!java.nio.file.Files.exists(tiny.resolve("config.json"))) {
      ModelGenerator.builder(ModelPreset.TINY.shape()).seed(5).build().writeTo(tiny);
    }
    Tokenizer tokenizer = Tokenizer.load(tiny);
    java.util.Set<Integer> eos = java.util.Set.of(tokenizer.eosId().orElseThrow());
    List<String> formats = List.of(StructuredSchemas.RESPONSE_FORMATS.get(0), "{\"type\":\"json_object\"}");
    List<GenerationTask> tasks = new java.util.ArrayList<>();
    for (int i = 0; i < formats.size(); i++) {
      tasks.add(new GenerationTask("json-" + i, tokenizer.encodePrompt("JSON " + i), new SamplingParams(0, 0, 1, 0, 40, eos,
          List.of()), "tiny", Map.of(), 0, 0, null, formats.get(i)));
    }
    Map<String, List<Integer>> expected = new java.util.LinkedHashMap<>();
    StructuredOutput structured = new StructuredOutput(tokenizer);
    try (KernelBackend k = Backends.cpu(BackendKind.AUTO, 1); Model model = Model.load(tiny, k)) {
      for (GenerationResult r : new Generator(model, 1, SchedulerLimits.DEFAULT, null)
          .generate(tasks.stream().map(t -> t.toRequest(structured)).toList())) {
        expected.put(r.id(), OperatorTestSupport.toList(r.tokens()));
      }
    }
    OperatorSubtaskState snapshot;
    try (var h = harness(tiny, false)) {
      h.open();
      shard = new Shard(h, tiny, false);
      for (GenerationTask t : tasks) {
        h.processElement(t, 0);
      }
      runMails(h, 9); // three steps of three MoE layers: the values are open
      assertThat(h.extractOutputValues()).isEmpty();
      snapshot = h.snapshot(1, 1);
      shard.close();
      shard = null;
    }
    try (var h = harness(tiny, false)) {
      h.initializeState(snapshot);
      h.open();
      shard = new Shard(h, tiny, false);
      h.endInput();
      List<GenerationOutput> outputs = h.extractOutputValues();
      assertThat(OperatorTestSupport.byId(outputs)).isEqualTo(expected);
      for (GenerationOutput o : outputs) {
        String text = tokenizer.decodeGenerated(o.tokens());
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(text).isObject()).as(text).isTrue();
      }
    }
  }

  /**
   * With the MTP module every main step is followed by a draft step (one more MoE layer on the
   * shard) and the next step verifies the drafts; a snapshot taken in between restores to the
   * same tokens, which are those of plain decoding.
   */
  @Test
  void speculativeStepsKeepThePlainTokensAcrossARestore() throws Exception {
    Path mtp = ModelGenerator.builder(ModelPreset.TINY.shape().toBuilder().vocabSize(512).build())
        .format(WeightFormat.BF16).mtp(true).seed(5).build().writeTo(tmp.resolve("mtp")).directory();
    List<GenerationTask> tasks = OperatorTestSupport.tasks(CAPACITY, 512);
    OperatorSubtaskState snapshot;
    try (var h = harness(mtp, true)) {
      h.open();
      shard = new Shard(h, mtp, true);
      for (GenerationTask t : tasks) {
        h.processElement(t, 0);
      }
      runMails(h, 7); // prefill (3 MoE layers + the draft's), then a verifying step under way
      GenerationOperator op = (GenerationOperator) h.getOperator();
      assertThat(op.draftsProposed()).isPositive();
      assertThat(h.extractOutputValues()).isEmpty();
      snapshot = h.snapshot(1, 1);
      shard.close();
      shard = null;
    }
    try (var h = harness(mtp, true)) {
      h.initializeState(snapshot);
      h.open();
      shard = new Shard(h, mtp, true);
      h.endInput();
      assertThat(OperatorTestSupport.byId(h.extractOutputValues())).isEqualTo(OperatorTestSupport.engineTokens(mtp, tasks));
    }
  }

  @Test
  void aWaitingProcessElementSeesCancellation() throws Exception {
    List<GenerationTask> tasks = OperatorTestSupport.tasks(CAPACITY + WAITING + 1, 512);
    Throwable[] failure = new Throwable[1];
    int[] admitted = new int[1];
    // the harness's mailbox belongs to the thread that builds it: the "task thread" here
    Thread taskThread = new Thread(() -> {
      try (var h = harness()) {
        h.open(); // no shard: nothing ever completes
        for (GenerationTask t : tasks) {
          h.processElement(t, 0);
          admitted[0]++;
        }
      } catch (Throwable e) {
        failure[0] = e;
      }
    });
    taskThread.start();
    long deadline = System.currentTimeMillis() + 30_000;
    while (admitted[0] < CAPACITY + WAITING && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    Thread.sleep(200);
    assertThat(taskThread.isAlive()).as("blocked at capacity with a full queue").isTrue();
    assertThat(admitted[0]).isEqualTo(CAPACITY + WAITING);
    taskThread.interrupt();
    taskThread.join(10_000);
    assertThat(taskThread.isAlive()).isFalse();
    assertThat(failure[0]).isInstanceOf(InterruptedException.class);
  }

  @Test
  void repliesOfAnAbandonedStepAreIgnored() throws Exception {
    try (var h = harness()) {
      h.open();
      GenerationOperator op = (GenerationOperator) h.getOperator();
      h.processElement(OperatorTestSupport.tasks(1, 512).get(0), 0);
      FeedbackChannel<ExpertReply> channel = FeedbackChannel.of(op.channelKey());
      channel.put(new ExpertReply(0, 999, 0, new io.moeflink.engine.moe.ExpertResult(1, 0, new float[0])));
      runMails(h, 1);
      assertThat(op.inFlight()).isEqualTo(1);
      assertThat(h.getSideOutput(GenerationOperator.EXPERT_REQUESTS)).hasSize(1); // still waiting for layer 1
    }
  }

  /** Tasks of the given (id, priority, tenant), with OperatorTestSupport's prompts and sampling. */
  private static List<GenerationTask> prioritized(String... idPriorityTenant) {
    List<GenerationTask> base = OperatorTestSupport.tasks(idPriorityTenant.length, 512);
    List<GenerationTask> out = new java.util.ArrayList<>();
    for (int i = 0; i < idPriorityTenant.length; i++) {
      String[] f = idPriorityTenant[i].split(":");
      GenerationTask b = base.get(i);
      out.add(new GenerationTask(f[0], b.promptTokens(), b.sampling(), b.model(), b.metadata(), 0, Integer.parseInt(f[1]),
          f.length > 2 ? f[2] : null));
    }
    return out;
  }

  private static List<String> ids(List<GenerationOutput> outputs) {
    return outputs.stream().map(GenerationOutput::id).toList();
  }

  private static final AdmissionOrder TWO_TO_ONE = new AdmissionOrder(16, TenantWeights.parse("a=2,b=1"));

  /** One slot: requests complete in the order they get it, so the completions show the admission order. */
  @Test
  void waitingRequestsGetTheSlotByPriorityThenTenantThenArrival() throws Exception {
    List<GenerationTask> tasks = prioritized("first:0:a", "a1:0:a", "a2:0:a", "b1:0:b", "late-urgent:5:b", "a3:0:a", "b2:0:b");
    try (var h = harness(modelDir, false, 1, TWO_TO_ONE, 0)) {
      h.open();
      for (GenerationTask t : tasks) {
        h.processElement(t, 0); // no shard yet: "first" runs, the others wait
      }
      assertThat(((GenerationOperator) h.getOperator()).waiting()).isEqualTo(6);
      shard = new Shard(h);
      h.endInput();
      // the urgent one first; then a (weight 2) gets two grants per grant of b, ties to the earlier head
      assertThat(ids(h.extractOutputValues()))
          .containsExactly("first", "late-urgent", "a1", "a2", "b1", "a3", "b2");
      assertThat(OperatorTestSupport.byId(h.extractOutputValues())).isEqualTo(OperatorTestSupport.engineTokens(modelDir, tasks));
    }
  }

  /** A snapshot with one sequence in flight and six waiting restores to the same admission order. */
  @Test
  void waitingRequestsAndTheirOrderSurviveARestore() throws Exception {
    List<GenerationTask> tasks = prioritized("first:0:a", "a1:0:a", "a2:0:a", "b1:0:b", "late-urgent:5:b", "a3:0:a", "b2:0:b");
    List<String> uninterrupted;
    try (var h = harness(modelDir, false, 1, TWO_TO_ONE, 0)) {
      h.open();
      for (GenerationTask t : tasks) {
        h.processElement(t, 0);
      }
      shard = new Shard(h);
      h.endInput();
      uninterrupted = ids(h.extractOutputValues());
      shard.close();
      shard = null;
    }
    OperatorSubtaskState snapshot;
    try (var h = harness(modelDir, false, 1, TWO_TO_ONE, 0)) {
      h.open();
      for (GenerationTask t : tasks) {
        h.processElement(t, 0);
      }
      snapshot = h.snapshot(1, 1); // "first" in flight, the other six waiting
    }
    try (var h = harness(modelDir, false, 1, TWO_TO_ONE, 0)) {
      h.initializeState(snapshot);
      h.open();
      GenerationOperator op = (GenerationOperator) h.getOperator();
      assertThat(op.waiting() + op.inFlight()).isEqualTo(7);
      shard = new Shard(h);
      h.endInput();
      assertThat(ids(h.extractOutputValues())).isEqualTo(uninterrupted);
      assertThat(OperatorTestSupport.byId(h.extractOutputValues())).isEqualTo(OperatorTestSupport.engineTokens(modelDir, tasks));
    }
  }

  /** Prompts sharing a 40-token prefix: later ones start from the cached blocks and generate the same tokens. */
  @Test
  void thePrefixCacheSavesPrefillAndChangesNoToken() throws Exception {
    List<GenerationTask> tasks = new java.util.ArrayList<>();
    for (GenerationTask b : OperatorTestSupport.tasks(6, 512)) {
      int[] prompt = new int[40 + b.promptTokens().length];
      for (int i = 0; i < 40; i++) {
        prompt[i] = (i * 29 + 1) % 512;
      }
      System.arraycopy(b.promptTokens(), 0, prompt, 40, b.promptTokens().length);
      tasks.add(new GenerationTask(b.id(), prompt, b.sampling(), b.model(), b.metadata(), 0));
    }
    try (var h = harness(modelDir, false, 1, AdmissionOrder.DEFAULT, 16L << 20)) {
      h.open();
      shard = new Shard(h);
      for (GenerationTask t : tasks) {
        h.processElement(t, 0);
      }
      h.endInput();
      var stats = ((GenerationOperator) h.getOperator()).prefixCacheStats();
      assertThat(stats.hits()).isEqualTo(5); // one at a time: all but the first hit
      assertThat(stats.tokensReused()).isEqualTo(5 * 32); // one block of 32 of the 40 shared tokens
      assertThat(OperatorTestSupport.byId(h.extractOutputValues())).isEqualTo(OperatorTestSupport.engineTokens(modelDir, tasks));
    }
  }

  @Test
  void theChannelKeyCarriesTheAttemptNumber() throws Exception {
    try (var h = harness()) {
      h.open();
      FeedbackKey key = ((GenerationOperator) h.getOperator()).channelKey();
      assertThat(key.subtask()).isZero();
      assertThat(key.attempt()).isEqualTo(h.getEnvironment().getTaskInfo().getAttemptNumber());
      assertThat(key.loopId()).isEqualTo("test");
    }
  }
}
