package io.moeflink.connectors;

import io.moeflink.schemas.ChatMessage;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.FinishReason;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.Usage;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * The stand-in for the model: answers each request with its own prompt. Optionally throttled and
 * failing once, after {@code failAfter} records, at least one completed checkpoint and some records
 * since the latest one, so that a test sees a restore from a checkpoint and records replayed
 * after it.
 */
final class EchoCompletion extends RichMapFunction<InferenceRequest, Completion>
    implements CheckpointListener {

  private static final long serialVersionUID = 1L;

  /** Records seen by all subtasks and attempts of the running test. */
  static final AtomicInteger PROCESSED = new AtomicInteger();

  /** Checkpoints completed in the running test. */
  static final AtomicInteger CHECKPOINTS = new AtomicInteger();

  /** Records seen since the last checkpoint completed: they are in an open transaction. */
  static final AtomicInteger SINCE_CHECKPOINT = new AtomicInteger();

  /** Records in open transactions when the failure is thrown, so the replay is visible. */
  private static final int UNCOMMITTED_AT_FAILURE = 10;

  /** Whether the one failure has been thrown. */
  static final AtomicBoolean FAILED = new AtomicBoolean();

  /** Fail once after this many records; 0 never fails. */
  private final int failAfter;

  /** Sleep per record, to spread the input over several checkpoints. */
  private final long throttleMillis;

  EchoCompletion() {
    this(0, 0);
  }

  EchoCompletion(int failAfter, long throttleMillis) {
    this.failAfter = failAfter;
    this.throttleMillis = throttleMillis;
  }

  static void reset() {
    PROCESSED.set(0);
    CHECKPOINTS.set(0);
    SINCE_CHECKPOINT.set(0);
    FAILED.set(false);
  }

  @Override
  public Completion map(InferenceRequest request) throws Exception {
    if (throttleMillis > 0) {
      Thread.sleep(throttleMillis);
    }
    int sinceCheckpoint = SINCE_CHECKPOINT.incrementAndGet();
    if (failAfter > 0
        && PROCESSED.incrementAndGet() >= failAfter
        && CHECKPOINTS.get() > 0
        && sinceCheckpoint >= UNCOMMITTED_AT_FAILURE
        && FAILED.compareAndSet(false, true)) {
      Thread.sleep(500); // let the sink send what it has, so the replay is visible uncommitted
      throw new IllegalStateException("Injected failure after " + failAfter + " records");
    }
    String text = text(request);
    return Completion.newBuilder()
        .setId(request.getId())
        .setText(text)
        .setFinishReason(FinishReason.STOP)
        .setUsage(new Usage(text.length(), text.length()))
        .setModel(request.getModel() != null ? request.getModel() : "echo")
        .setSeed(request.getSampling() != null ? request.getSampling().getSeed() : null)
        .setMetadata(request.getMetadata())
        .build();
  }

  @Override
  public void notifyCheckpointComplete(long checkpointId) {
    CHECKPOINTS.incrementAndGet();
    SINCE_CHECKPOINT.set(0);
  }

  private static String text(InferenceRequest request) {
    if (request.getPrompt() != null) {
      return request.getPrompt();
    }
    List<ChatMessage> messages = request.getMessages();
    if (messages != null) {
      return messages.get(messages.size() - 1).getContent();
    }
    return request.getPromptTokenIds().toString();
  }
}
