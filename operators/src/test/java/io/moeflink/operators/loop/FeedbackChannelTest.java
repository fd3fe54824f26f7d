package io.moeflink.operators.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeedbackChannelTest {

  @Test
  void buffersUntilTheConsumerRegistersThenDeliversInOrder() {
    FeedbackChannel<String> c = FeedbackChannel.of(new FeedbackKey("job", "loop", 0, 0));
    c.put("a");
    c.put("b");
    assertThat(c.buffered()).isEqualTo(2);
    List<String> got = new ArrayList<>();
    c.consume(got::add);
    c.put("c");
    assertThat(got).containsExactly("a", "b", "c");
    assertThat(c.buffered()).isZero();
    c.close();
  }

  @Test
  void eachAttemptGetsItsOwnChannel() {
    FeedbackChannel<String> first = FeedbackChannel.of(new FeedbackKey("job", "loop", 1, 0));
    FeedbackChannel<String> second = FeedbackChannel.of(new FeedbackKey("job", "loop", 1, 1));
    assertThat(second).isNotSameAs(first);
    first.put("stale");
    assertThat(second.buffered()).isZero();
    assertThat(FeedbackChannel.<String>of(new FeedbackKey("job", "loop", 1, 0))).isSameAs(first);
    first.close();
    second.close();
  }

  @Test
  void aClosedChannelDropsLateItemsAndFreesItsKey() {
    FeedbackKey key = new FeedbackKey("job", "loop", 2, 0);
    FeedbackChannel<String> c = FeedbackChannel.of(key);
    c.close();
    c.put("late");
    assertThat(c.buffered()).isZero();
    FeedbackChannel<String> fresh = FeedbackChannel.of(key);
    assertThat(fresh).isNotSameAs(c);
    fresh.close();
  }

  @Test
  void refusesASecondConsumer() {
    FeedbackChannel<String> c = FeedbackChannel.of(new FeedbackKey("job", "loop", 3, 0));
    c.consume(x -> {});
    assertThatThrownBy(() -> c.consume(x -> {})).isInstanceOf(IllegalStateException.class);
    c.close();
  }
}
