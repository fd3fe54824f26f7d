package io.moeflink.jobs;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;

/** What the job mains share: parse the options, answer {@code --help}, make the environment. */
final class JobArguments {
  private JobArguments() {}

  /** Parses {@code args} into {@code options}; false when only usage help was asked for (and printed). */
  static boolean parse(Object options, String[] args) {
    CommandLine cli = new CommandLine(options);
    cli.parseArgs(args);
    if (cli.isUsageHelpRequested()) {
      cli.usage(System.out);
      return false;
    }
    return true;
  }

  /** The execution environment configured from the generation options. */
  static StreamExecutionEnvironment environment(GenerationOptions generation) {
    return StreamExecutionEnvironment.getExecutionEnvironment(InferencePipeline.configuration(generation));
  }
}
