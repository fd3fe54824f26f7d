package io.moeflink.operators.experts;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertResult;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.operators.ModelSpec;
import io.moeflink.operators.loop.ExpertReply;
import io.moeflink.operators.loop.ExpertRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the routed experts that the placement assigns to this subtask (shard = subtask index) and
 * computes the expert batches sent to it.
 *
 * <p>Computation runs on a worker thread so that the task thread stays free for input and
 * checkpoint barriers; the worker takes everything queued at once and computes the requests of
 * one layer together (several generation subtasks' tokens, one read of each expert's weights).
 * Replies re-enter the task thread as mails, where they are emitted.
 */
public final class ExpertShardOperator extends AbstractStreamOperator<ExpertReply>
    implements OneInputStreamOperator<ExpertRequest, ExpertReply>, BoundedOneInput {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ExpertShardOperator.class);

  private final ModelSpec spec;
  private final transient MailboxExecutor mailbox;

  /** Kernel threads and their backend, owned by this subtask. */
  private transient KernelBackend kernels;
  /** The checkpoint files the experts are mapped from. */
  private transient Checkpoint checkpoint;
  /** This subtask's experts. */
  private transient ExpertShard shard;
  /** Requests handed to the worker and not yet replied to (task thread only). */
  private transient int outstanding;
  /** Requests waiting for the worker. */
  private transient LinkedBlockingQueue<ExpertRequest> queue;
  /** Computes queued requests. */
  private transient Thread worker;
  /** Tokens routed to each (layer, expert) held here: the load that expert balancing needs. */
  private transient Map<Long, Counter> routedTokens;
  /** Token rows per computed batch. */
  private transient Histogram batchTokens;

  public ExpertShardOperator(StreamOperatorParameters<ExpertReply> parameters, ModelSpec spec, MailboxExecutor mailbox) {
    super(parameters);
    this.spec = spec;
    this.mailbox = mailbox;
  }

  @Override
  public void open() throws Exception {
    super.open();
    int index = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
    if (parallelism != spec.expertShards()) {
      throw new IllegalStateException(
          "Expert-shard operator runs with parallelism " + parallelism + " but the placement has " + spec.expertShards()
              + " shards: they must be equal");
    }
    long start = System.nanoTime();
    ModelConfig config = spec.config();
    ExpertPlacement placement = spec.placement(config);
    kernels = spec.createBackend(getRuntimeContext());
    checkpoint = Checkpoint.open(spec.path());
    shard = ExpertShard.load(checkpoint, config, placement, index, spec.mtp());
    shard.prepareWeights(kernels);
    LOG.info("Expert shard {}/{} holds {} (layer, expert) pairs, {} MiB, loaded and laid out in {} ms; backend {}",
        index, parallelism, shard.expertCount(), shard.bytes() >> 20, (System.nanoTime() - start) / 1_000_000,
        kernels.name());
    routedTokens = new HashMap<>();
    batchTokens = getMetricGroup().histogram("expertBatchTokens", new DescriptiveStatisticsHistogram(1000));
    queue = new LinkedBlockingQueue<>();
    worker = new Thread(this::work, "expert-shard-" + index);
    worker.setDaemon(true);
    worker.start();
  }

  @Override
  public void processElement(StreamRecord<ExpertRequest> element) {
    outstanding++;
    queue.add(element.getValue());
  }

  private void work() {
    List<ExpertRequest> taken = new ArrayList<>();
    try {
      while (!Thread.currentThread().isInterrupted()) {
        taken.clear();
        taken.add(queue.take());
        queue.drainTo(taken);
        Map<Integer, List<ExpertRequest>> byLayer = new TreeMap<>();
        for (ExpertRequest r : taken) {
          byLayer.computeIfAbsent(r.batch().layer(), l -> new ArrayList<>()).add(r);
        }
        for (List<ExpertRequest> group : byLayer.values()) {
          List<ExpertBatch> batches = group.stream().map(ExpertRequest::batch).toList();
          List<ExpertResult> results = shard.compute(kernels, batches);
          List<ExpertReply> replies = new ArrayList<>(group.size());
          for (int i = 0; i < group.size(); i++) {
            ExpertRequest r = group.get(i);
            replies.add(new ExpertReply(r.origin(), r.step(), r.shard(), results.get(i)));
          }
          mailbox.execute(() -> emit(batches, replies), "expert replies");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      // fail the task from its own thread, where Flink expects failures
      try {
        mailbox.execute(() -> {
          throw new IllegalStateException("Expert shard computation failed", e);
        }, "expert failure");
      } catch (RuntimeException rejected) {
        LOG.warn("Expert shard failed while shutting down", e);
      }
    }
  }

  private void emit(List<ExpertBatch> batches, List<ExpertReply> replies) {
    for (ExpertReply reply : replies) {
      output.collect(new StreamRecord<>(reply));
    }
    outstanding -= replies.size();
    batchTokens.update(batches.stream().mapToInt(ExpertBatch::tokens).sum());
    for (ExpertBatch b : batches) {
      for (int i = 0; i < b.experts().length; i++) {
        int expert = b.experts()[i];
        long key = ((long) b.layer() << 32) | expert;
        routedTokens.computeIfAbsent(key, k -> getMetricGroup()
            .addGroup("layer", String.valueOf(b.layer()))
            .addGroup("expert", String.valueOf(expert))
            .counter("expertTokensRouted")).inc(b.expertStarts()[i + 1] - b.expertStarts()[i]);
      }
    }
  }

  @Override
  public void endInput() throws Exception {
    while (outstanding > 0) {
      mailbox.yield(); // replies arrive as mails
    }
  }

  @Override
  public void close() throws Exception {
    if (worker != null) {
      worker.interrupt();
      worker.join(10_000);
    }
    if (kernels != null) {
      kernels.close();
    }
    if (checkpoint != null) {
      checkpoint.close();
    }
    super.close();
  }
}
