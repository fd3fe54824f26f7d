package io.moeflink.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code bin/moe-flink} command line. Each subcommand is its own class; this one lists them
 * and sets how failures are answered ({@link CliErrors}: one line, exit code 2 for a mistake).
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
      QuantizeCommand.class,
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

  @Option(names = CliErrors.VERBOSE, scope = ScopeType.INHERIT,
      description = "On an error, also print its stack trace.")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (for tests). */
  public static int run(String... args) {
    try {
      return commandLine().execute(args);
    } catch (OutOfMemoryError e) {
      // picocli hands errors through: say what ran out in one line, as for any other failure
      System.err.println("moe-flink: failed: " + e.getMessage());
      return CliErrors.FAILURE;
    }
  }

  /** The command line, for callers that redirect its output. */
  public static CommandLine commandLine() {
    CliErrors errors = new CliErrors();
    return new CommandLine(new MoeFlinkCli())
        .setParameterExceptionHandler(errors)
        .setExecutionExceptionHandler(errors);
  }
}
