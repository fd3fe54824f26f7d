package io.moeflink.operators.generation;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.generate.BatchScheduler;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.generate.Sequence;
import io.moeflink.engine.generate.Step;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.PrefixCache;
import io.moeflink.engine.moe.MoeDispatch;
import io.moeflink.engine.sampling.FinishReason;
import io.moeflink.engine.tokenizer.Tokenizer;
import io.moeflink.operators.GenerationOutput;
import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.ModelFiles;
import io.moeflink.operators.ModelSpec;
import io.moeflink.operators.admission.AdmissionOrder;
import io.moeflink.operators.loop.ExpertReply;
import io.moeflink.operators.loop.ExpertRequest;
import io.moeflink.operators.loop.FeedbackChannel;
import io.moeflink.operators.loop.FeedbackKeys;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns sequences: their latent caches, the dense weights, the sampler. Every step is one {@link
 * io.moeflink.engine.model.ForwardPass} of continuous batching; at each MoE layer the pass's
 * dispatch leaves through the {@link #EXPERT_REQUESTS} side output, one message per shard, and
 * the replies come back through the feedback channel as mails on this task's mailbox.
 *
 * <p>Single-threaded by construction (the mailbox). When the sequence capacity is full, {@link
 * #processElement} yields to the mailbox, so replies keep flowing and upstream is back-pressured
 * (Flink's AsyncWaitOperator pattern). At end of input it keeps yielding until every sequence has
 * finished. Checkpoints keep each in-flight sequence's task and generated tokens.
 *
 * <p>Requests wait in {@link WaitingRequests} (priority, then tenant shares by weight, then
 * arrival) for a slot; the waiting ones are checkpointed in their arrival order, so a restore
 * admits them in the same order. When the queue is full, {@link #processElement} yields. With a
 * prefix cache (never checkpointed) new sequences start from the prompt prefixes earlier ones
 * left.
 */
public final class GenerationOperator extends AbstractStreamOperator<GenerationOutput>
    implements OneInputStreamOperator<GenerationTask, GenerationOutput>, BoundedOneInput {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(GenerationOperator.class);

  /** The loop's outgoing edge: per MoE layer, one request per shard that has tokens. */
  public static final OutputTag<ExpertRequest> EXPERT_REQUESTS = new OutputTag<>("expert-requests", ExpertRequest.TYPE);

  private final ModelSpec spec;
  private final SchedulerLimits limits;
  private final String loopId;
  private final AdmissionOrder order;
  /** The prefix cache's budget: 0 off, below 0 a share of the heap ({@link #autoPrefixCacheBytes()}). */
  private final long prefixCacheBytes;
  private final transient MailboxExecutor mailbox;

  /** This subtask's index: the origin of its requests. */
  private transient int subtask;
  /** Kernel threads for the dense part. */
  private transient KernelBackend kernels;
  /** Dense weights (memory-mapped). */
  private transient Model model;
  /** config.json and the tokenizer, shared with the chained admission. */
  private transient ModelFiles files;
  /** Detokenizer for texts and stop strings; null when the model has no tokenizer. */
  private transient Tokenizer tokenizer;
  /** Continuous batching over this subtask's sequences. */
  private transient BatchScheduler scheduler;
  /** Replies from the co-located feedback tail. */
  private transient FeedbackChannel<ExpertReply> channel;
  /** In-flight tasks by request id. */
  private transient Map<String, GenerationTask> tasks;
  /**
   * The one clock of every request timestamp (wall-clock milliseconds, as admission stamps
   * {@code admittedAtMillis}): when it entered the scheduler and when its first token came.
   */
  private transient LongSupplier clock;
  /** When each in-flight sequence entered the scheduler, on {@link #clock}. */
  private transient Map<String, Long> startedAtMillis;
  /** When each in-flight sequence sampled its first token, on {@link #clock}. */
  private transient Map<String, Long> firstTokenAtMillis;
  /** Restored sequences waiting for capacity (after a restore with fewer subtasks). */
  private transient Deque<SequenceSnapshot> restoring;
  /** Requests waiting for a sequence slot, in admission order. */
  private transient WaitingRequests waiting;
  /** Checkpointed waiting requests, in arrival order. */
  private transient ListState<GenerationTask> waitingState;
  /** Checkpointed tenant passes of the waiting requests' fair shares. */
  private transient ListState<Tuple2<String, Long>> passState;
  /** Checkpointed virtual time of the fair shares (one value). */
  private transient ListState<Long> virtualTimeState;
  /** Per-tenant counters and histograms, made on the tenant's first request. */
  private transient Map<String, TenantMetrics> tenantMetrics;
  /** The step in flight, or null. */
  private transient Step current;
  /** Number of the step in flight; replies carry it. */
  private transient long stepNumber;
  /** When the layer in flight was dispatched. */
  private transient long layerSentNanos;
  /** Checkpointed in-flight sequences. */
  private transient ListState<SequenceSnapshot> state;

  private transient Counter tokensGenerated;
  private transient Counter prefillTokens;
  private transient Counter decodeTokens;
  private transient Histogram timeToFirstToken;
  private transient Histogram[] loopRoundTripMicros;
  private transient Counter draftsProposed;
  private transient Counter draftsAccepted;

  public GenerationOperator(
      StreamOperatorParameters<GenerationOutput> parameters, ModelSpec spec, SchedulerLimits limits, String loopId,
      AdmissionOrder order, long prefixCacheBytes, MailboxExecutor mailbox) {
    super(parameters);
    this.spec = spec;
    this.limits = limits;
    this.loopId = loopId;
    this.order = order;
    this.prefixCacheBytes = prefixCacheBytes;
    this.mailbox = mailbox;
  }

  /** The prefix cache's budget when none is given: a tenth of the JVM's heap. */
  static long autoPrefixCacheBytes() {
    return Runtime.getRuntime().maxMemory() / 10;
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("in-flight-sequences", SequenceSnapshot.TYPE));
    var store = context.getOperatorStateStore();
    waitingState = store.getListState(new ListStateDescriptor<>("waiting-requests", GenerationTask.TYPE));
    passState = store.getListState(new ListStateDescriptor<>("tenant-passes", Types.TUPLE(Types.STRING, Types.LONG)));
    virtualTimeState = store.getListState(new ListStateDescriptor<>("tenant-virtual-time", Types.LONG));
    restoring = new ArrayDeque<>();
    waiting = new WaitingRequests(order);
    if (context.isRestored()) {
      for (SequenceSnapshot s : state.get()) {
        restoring.add(s);
      }
      Map<String, Long> passes = new HashMap<>();
      for (Tuple2<String, Long> p : passState.get()) {
        passes.merge(p.f0, p.f1, Math::max);
      }
      long virtualTime = 0;
      for (Long t : virtualTimeState.get()) {
        virtualTime = Math.max(virtualTime, t);
      }
      List<GenerationTask> waitingInOrder = new ArrayList<>();
      waitingState.get().forEach(waitingInOrder::add);
      waiting.restore(passes, virtualTime, waitingInOrder);
    }
  }

  @Override
  public void open() throws Exception {
    super.open();
    subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    files = ModelFiles.acquire(getRuntimeContext(), spec.path());
    ModelConfig config = files.config();
    kernels = spec.createBackend(getRuntimeContext());
    Checkpoint checkpoint = Checkpoint.open(spec.path());
    try {
      model = Model.open(config, checkpoint, kernels, spec.modelDir(), spec.mtp());
      model.prepareWeights();
    } catch (RuntimeException e) {
      checkpoint.close();
      throw e;
    }
    ExpertPlacement placement = spec.placement(config);
    if (subtask == 0) {
      placement.describe().forEach(line -> LOG.info("Expert placement: {}", line));
    }
    tokenizer = files.tokenizer();
    Tokenizer t = tokenizer;
    scheduler = new BatchScheduler(model, placement, limits, t == null ? null : t::decodeGenerated);
    long cacheBytes = prefixCacheBytes < 0 ? autoPrefixCacheBytes() : prefixCacheBytes;
    if (cacheBytes > 0 && !model.hasMtp()) {
      scheduler.usePrefixCache(PrefixCache.of(model, cacheBytes, PrefixCache.DEFAULT_BLOCK_TOKENS));
    }
    tenantMetrics = new HashMap<>();
    tasks = new HashMap<>();
    clock = System::currentTimeMillis;
    startedAtMillis = new HashMap<>();
    firstTokenAtMillis = new HashMap<>();
    registerMetrics();
    channel = FeedbackChannel.of(FeedbackKeys.of(getRuntimeContext(), loopId));
    channel.consume(this::enqueueReply);
    if (!restoring.isEmpty() || !waiting.isEmpty()) {
      LOG.info("Generation subtask {} restores {} in-flight sequence(s), which re-prefill, and {} waiting request(s)",
          subtask, restoring.size(), waiting.size());
    }
    LOG.info("Generation subtask {}: prefix cache {}", subtask, scheduler.prefixCache() == null
        ? (model.hasMtp() ? "off (speculative decoding)" : "off")
        : (cacheBytes >> 20) + " MiB in blocks of " + PrefixCache.DEFAULT_BLOCK_TOKENS + " tokens");
    pump();
  }

  private void registerMetrics() {
    var group = getMetricGroup();
    tokensGenerated = group.counter("tokensGenerated");
    prefillTokens = group.counter("prefillTokens");
    decodeTokens = group.counter("decodeTokens");
    group.meter("prefillTokensPerSecond", new MeterView(prefillTokens));
    group.meter("decodeTokensPerSecond", new MeterView(decodeTokens));
    timeToFirstToken = group.histogram("timeToFirstToken", new DescriptiveStatisticsHistogram(1000));
    group.gauge("inFlightSequences", () -> scheduler.inFlight() + restoring.size());
    draftsProposed = group.counter("draftsProposed");
    draftsAccepted = group.counter("draftsAccepted");
    group.gauge("waitingRequests", () -> waiting.size());
    PrefixCache prefixes = scheduler.prefixCache();
    if (prefixes != null) {
      // share of the prompt tokens looked up that came from the cache
      group.gauge("prefixCacheHitRate", () -> prefixes.stats().tokenHitRate());
      group.gauge("prefixCacheRequestHits", () -> prefixes.stats().hits());
      group.gauge("prefillTokensSaved", () -> prefixes.stats().tokensReused());
      group.gauge("prefixCacheBytes", () -> prefixes.stats().bytes());
      group.gauge("prefixCacheEvictions", () -> prefixes.stats().evictions());
    }
    // tokens a verifying step yields per sequence: 1 + the share of drafts accepted
    group.gauge("acceptedTokensPerStep", () -> draftsProposed.getCount() == 0 ? 1.0
        : 1.0 + draftsAccepted.getCount() / (double) draftsProposed.getCount());
    loopRoundTripMicros = new Histogram[model.config().numHiddenLayers() + 1]; // + the MTP module's layer
    for (int l = model.config().firstKDenseReplace(); l < loopRoundTripMicros.length; l++) {
      loopRoundTripMicros[l] = group.addGroup("layer", String.valueOf(l))
          .histogram("loopRoundTripMicros", new DescriptiveStatisticsHistogram(1000));
    }
  }

  /** Called by the feedback tail's thread: never blocks, only enqueues a mail. */
  private void enqueueReply(ExpertReply reply) {
    try {
      mailbox.execute(() -> onReply(reply), "expert reply");
    } catch (RejectedExecutionException closing) {
      // the task is shutting down; the reply is no longer needed
    }
  }

  @Override
  public void processElement(StreamRecord<GenerationTask> element) throws Exception {
    while (waiting.isFull()) {
      mailbox.yield(); // replies run as mails; a step completion frees slots for waiting requests
    }
    waiting.add(element.getValue());
    if (current == null) {
      pump();
    } else {
      admitWaiting(); // a free slot takes it at once; the step in flight does not wait for it
    }
  }

  private void admit(GenerationTask task, int[] generated) {
    tasks.put(task.id(), task);
    long now = clock.getAsLong();
    startedAtMillis.put(task.id(), now);
    scheduler.restore(task.toRequest(files.structuredOutput()), generated, now);
    tenant(task).queueTimeMillis.update(Math.max(0, now - task.admittedAtMillis()));
  }

  /** Restored sequences first, then waiting requests in their order, while slots are free. */
  private void admitWaiting() {
    while (!restoring.isEmpty() && scheduler.hasCapacity()) {
      SequenceSnapshot s = restoring.poll();
      waiting.started(s.task());
      admit(s.task(), s.generated());
    }
    while (!waiting.isEmpty() && scheduler.hasCapacity()) {
      admit(waiting.poll(), new int[0]);
    }
  }

  private TenantMetrics tenant(GenerationTask task) {
    return tenantMetrics.computeIfAbsent(WaitingRequests.tenantOf(task), name -> new TenantMetrics(
        getMetricGroup().addGroup("tenant", name.isEmpty() ? "none" : name), () -> waiting.running(name)));
  }

  /** Runs steps until one waits for expert replies, or nothing is left to do. */
  private void pump() {
    while (true) {
      if (current == null) {
        admitWaiting();
        current = scheduler.nextStep();
        if (current == null) {
          return;
        }
        stepNumber++;
        countTokens(current);
      }
      MoeDispatch dispatch = current.pass().advance();
      if (dispatch != null) {
        send(dispatch);
        current.pass().runSharedExperts(); // while the shards compute the routed experts
        return;
      }
      completeStep();
    }
  }

  private void send(MoeDispatch dispatch) {
    layerSentNanos = System.nanoTime();
    ExpertBatch[] batches = dispatch.batches();
    for (int s = 0; s < batches.length; s++) {
      if (batches[s] != null) {
        output.collect(EXPERT_REQUESTS, new StreamRecord<>(new ExpertRequest(subtask, stepNumber, s, batches[s])));
      }
    }
  }

  private void onReply(ExpertReply reply) {
    if (current == null || reply.step() != stepNumber) {
      return; // a reply to a step this attempt no longer runs
    }
    current.pass().accept(reply.shard(), reply.result());
    if (!current.pass().awaitingResults()) {
      Histogram rtt = loopRoundTripMicros[reply.result().layer()];
      rtt.update((System.nanoTime() - layerSentNanos) / 1000);
      pump();
    }
  }

  private void countTokens(Step step) {
    if (step.pass().isDraft()) {
      return; // the MTP module's rows are not tokens of the model
    }
    int decode = 0;
    for (int i = 0; i < step.sequences().size(); i++) {
      Sequence s = step.sequences().get(i);
      int fed = step.pass().chunks().get(i).tokens().length;
      if (s.generatedCount() > 0 && fed == step.pass().chunks().get(i).logitRows()) {
        decode += fed; // a decode token, and its draft when verifying
      }
    }
    decodeTokens.inc(decode);
    prefillTokens.inc(step.pass().tokens() - decode);
  }

  private void completeStep() {
    Step done = current;
    current = null;
    long now = clock.getAsLong();
    if (done.pass().isDraft()) {
      scheduler.complete(done, now); // records the drafts the next step verifies
      return;
    }
    for (int i = 0; i < done.sequences().size(); i++) {
      Sequence s = done.sequences().get(i);
      if (done.pass().logits(i) != null) {
        String id = s.request().id();
        // the first token of this attempt (a restored sequence had earlier ones)
        firstTokenAtMillis.putIfAbsent(id, now);
        if (s.generatedCount() == 0) {
          timeToFirstToken.update(now - tasks.get(id).admittedAtMillis());
        }
      }
    }
    long before = generatedTokens(done);
    BatchScheduler.SpeculationCounts counts = scheduler.speculationCounts();
    for (Sequence s : scheduler.complete(done, now)) {
      GenerationTask task = tasks.get(s.request().id());
      waiting.finished(task);
      tenant(task).completed(s.generatedCount());
      output.collect(new StreamRecord<>(toOutput(s, now)));
    }
    tokensGenerated.inc(generatedTokens(done) - before);
    BatchScheduler.SpeculationCounts after = scheduler.speculationCounts();
    draftsProposed.inc(after.proposed() - counts.proposed());
    draftsAccepted.inc(after.accepted() - counts.accepted());
    current = scheduler.nextDraft(); // with the MTP module: the drafts of the next step, as a step of their own
    if (current != null) {
      stepNumber++;
    }
  }

  /** Tokens the step's sequences have generated in all. */
  private static long generatedTokens(Step step) {
    long n = 0;
    for (Sequence s : step.sequences()) {
      n += s.generatedCount();
    }
    return n;
  }

  /** The completion, its timings from the admission stamp on the one clock. */
  private GenerationOutput toOutput(Sequence s, long nowMillis) {
    GenerationTask task = tasks.remove(s.request().id());
    long admitted = task.admittedAtMillis();
    long queued = Math.max(0, startedAtMillis.remove(s.request().id()) - admitted);
    long firstToken = Math.max(0, firstTokenAtMillis.remove(s.request().id()) - admitted);
    String text = s.completionText(tokenizer == null ? null : tokenizer::decodeGenerated);
    String reason = s.finish().reason() == FinishReason.STOP ? GenerationOutput.STOP : GenerationOutput.LENGTH;
    return new GenerationOutput(
        task.id(), s.generated(), text, reason, null, task.promptTokens().length, queued, firstToken,
        Math.max(0, nowMillis - admitted),
        task.sampling().seed(), task.model(), task.metadata());
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    List<SequenceSnapshot> snapshot = new ArrayList<>(restoring);
    for (Sequence s : scheduler.sequences()) {
      snapshot.add(new SequenceSnapshot(tasks.get(s.request().id()), s.generated()));
    }
    state.update(snapshot);
    waitingState.update(waiting.inArrivalOrder());
    List<Tuple2<String, Long>> passes = new ArrayList<>();
    waiting.passes().forEach((tenant, pass) -> passes.add(Tuple2.of(tenant, pass)));
    passState.update(passes);
    virtualTimeState.update(List.of(waiting.virtualTime()));
  }

  @Override
  public void endInput() throws Exception {
    while (current != null || scheduler.inFlight() > 0 || !restoring.isEmpty() || !waiting.isEmpty()) {
      mailbox.yield();
    }
  }

  /** The key of this subtask's feedback channel (tests). */
  io.moeflink.operators.loop.FeedbackKey channelKey() {
    return channel.key();
  }

  /** Drafts verified so far (tests). */
  long draftsProposed() {
    return draftsProposed.getCount();
  }

  /** Requests waiting for a slot (tests). */
  int waiting() {
    return waiting.size();
  }

  /** The prefix cache's figures, or null without one (tests). */
  PrefixCache.Stats prefixCacheStats() {
    return scheduler.prefixCache() == null ? null : scheduler.prefixCache().stats();
  }

  /** Sequences in flight (tests). */
  /** This subtask's share of the work, for the spread over subtasks that prefix routing gives. */
  private void logTotals() {
    PrefixCache prefixes = scheduler.prefixCache();
    PrefixCache.Stats s = prefixes == null ? null : prefixes.stats();
    String cache = s == null ? "no prefix cache" : String.format(Locale.ROOT,
        "prefix cache: %d of %d prompts hit, %d prompt tokens reused (%.1f%%)", s.hits(), s.lookups(),
        s.tokensReused(), 100 * s.tokenHitRate());
    LOG.info("Generation subtask {} totals: {} prefill tokens computed, {} decode tokens; {}", subtask,
        prefillTokens.getCount(), decodeTokens.getCount(), cache);
  }

  int inFlight() {
    return scheduler.inFlight() + restoring.size();
  }

  @Override
  public void close() throws Exception {
    if (scheduler != null && prefillTokens != null) {
      logTotals();
    }
    if (channel != null) {
      channel.close();
    }
    if (model != null) {
      model.close();
    }
    if (kernels != null) {
      kernels.close();
    }
    if (files != null) {
      files.release();
    }
    super.close();
  }
}
