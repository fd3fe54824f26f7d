package io.moeflink.operators.loop;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The in-JVM return edge of the expert loop (the way Flink Stateful Functions closed its cycle):
 * the {@link FeedbackTailOperator} puts replies in; the co-located generation operator consumes
 * them as mails on its own mailbox. {@link #put} never blocks: it hands the reply to the consumer
 * (an enqueue on the mailbox) or buffers it until the consumer registers.
 *
 * <p>Channels live in a JVM-wide registry, since the tail and the head are different tasks that
 * share only the JVM (and, by co-location, the slot).
 */
public final class FeedbackChannel<T> {
  private static final ConcurrentHashMap<FeedbackKey, FeedbackChannel<?>> REGISTRY = new ConcurrentHashMap<>();

  private final FeedbackKey key;
  private final Queue<T> buffered = new ArrayDeque<>();
  private Consumer<T> consumer;
  private boolean closed;

  private FeedbackChannel(FeedbackKey key) {
    this.key = key;
  }

  /** The channel for {@code key}, created on first use by either side. */
  @SuppressWarnings("unchecked")
  public static <T> FeedbackChannel<T> of(FeedbackKey key) {
    return (FeedbackChannel<T>) REGISTRY.computeIfAbsent(key, FeedbackChannel::new);
  }

  /** Number of open channels in this JVM (tests). */
  static int openChannels() {
    return REGISTRY.size();
  }

  /** Hands an item to the consumer, or keeps it until one registers. Never blocks. */
  public synchronized void put(T item) {
    if (closed) {
      return; // the consuming attempt is gone; its replies are no longer wanted
    }
    if (consumer == null) {
      buffered.add(item);
    } else {
      consumer.accept(item);
    }
  }

  /** Registers the (single) consumer and hands it everything buffered so far, in order. */
  public synchronized void consume(Consumer<T> newConsumer) {
    if (consumer != null) {
      throw new IllegalStateException("Feedback channel " + key + " already has a consumer");
    }
    consumer = newConsumer;
    T item;
    while ((item = buffered.poll()) != null) {
      consumer.accept(item);
    }
  }

  /** Items waiting for a consumer. */
  public synchronized int buffered() {
    return buffered.size();
  }

  /** Drops the channel: later puts are discarded, and the key is free for a new channel. */
  public synchronized void close() {
    closed = true;
    buffered.clear();
    REGISTRY.remove(key, this);
  }

  public FeedbackKey key() {
    return key;
  }
}
