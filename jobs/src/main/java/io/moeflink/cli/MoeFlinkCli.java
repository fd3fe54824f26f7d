package io.moeflink.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bin/moe-flink} command line. Each subcommand is its own class; this one only lists
 * them.
 */
@Command(
    name = "moe-flink",
    mixinStandardHelpOptions = true,
    version = "moe-flink 0.1.0",
    description = "Flink batch inference for DeepSeek-V3-class Mixture-of-Experts models.",
    subcommands = {
      CommandLine.HelpCommand.class,
      GenerateCommand.class,
      MakeModelCommand.class,
      KafkaCommand.class,
      PublishCommand.class,
      ConsumeCommand.class,
      RunCommand.class,
      CorpusCommand.class,
      DemoCommand.class,
      BenchCommand.class,
      BenchDataflowCommand.class,
    })
public final class MoeFlinkCli {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (for tests). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The command line, for callers that redirect its output. */
  public static CommandLine commandLine() {
    return new CommandLine(new MoeFlinkCli());
  }
}
