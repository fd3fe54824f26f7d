package io.moeflink.cli;

import io.moeflink.jobs.InferencePipeline;
import io.moeflink.jobs.JobPreflight;
import io.moeflink.jobs.StreamingJob;
import io.moeflink.jobs.StreamingJobOptions;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code moe-flink run}: the streaming job on a local MiniCluster (the same job {@code flink run} submits). */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Run the streaming job locally: Kafka requests -> generation -> Kafka completions + dead letters.")
final class RunCommand extends StreamingJobOptions implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    KafkaClients.resolve(kafka, spec); // no brokers: a usage error before anything starts
    JobPreflight.streaming(this); // model, placement, backend, formats: before the job starts
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(InferencePipeline.configuration(generation));
    StreamingJob.build(env, this, UnaryOperator.identity());
    env.execute("moe-flink streaming " + requests + " -> " + completions);
    return 0;
  }
}
