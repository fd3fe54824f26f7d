package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.executiongraph.failover.ExponentialDelayRestartBackoffTimeStrategy;
import org.apache.flink.runtime.executiongraph.failover.FixedDelayRestartBackoffTimeStrategy;
import org.apache.flink.runtime.executiongraph.failover.RestartBackoffTimeStrategy;
import org.apache.flink.runtime.executiongraph.failover.RestartBackoffTimeStrategyFactoryLoader;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The jobs' restart strategy, as the JobMaster resolves it ({@link
 * RestartBackoffTimeStrategyFactoryLoader}: the job's configuration, then the cluster's, then
 * Flink's default): exponential delay without an attempt limit unless the cluster configures one.
 */
class RestartStrategyTest {

  private static Configuration jobConfiguration() {
    StreamingJobOptions o = new StreamingJobOptions();
    new CommandLine(o).parseArgs("--bootstrap", "localhost:9092", "--requests", "r", "--completions", "c",
        "--dead-letters", "d", "--model", "/models/m");
    return InferencePipeline.configuration(o.generation);
  }

  private static RestartBackoffTimeStrategy resolve(Configuration cluster) {
    return RestartBackoffTimeStrategyFactoryLoader.createRestartBackoffTimeStrategyFactory(jobConfiguration(), cluster, true)
        .create();
  }

  @Test
  void jobLeavesTheRestartStrategyToTheCluster() {
    assertThat(jobConfiguration().keySet()).noneMatch(key -> key.startsWith("restart-strategy"));
  }

  @Test
  void restartsWithExponentialDelayAndNoAttemptLimitWhenTheClusterSetsNone() {
    Configuration cluster = new Configuration();

    assertThat(resolve(cluster)).isInstanceOf(ExponentialDelayRestartBackoffTimeStrategy.class);
    // Flink's default, which neither the job nor the cluster overrides: a lost TaskManager never exhausts it.
    assertThat(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS.defaultValue()).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void aRestartStrategyTheClusterConfiguresWins() {
    Configuration cluster = new Configuration();
    cluster.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");

    assertThat(resolve(cluster)).isInstanceOf(FixedDelayRestartBackoffTimeStrategy.class);
  }
}
