package io.moeflink.cli;

import io.moeflink.jobs.KafkaClientOptions;
import io.moeflink.jobs.KafkaClientOptions.KafkaClientSettings;
import java.io.IOException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Resolves {@link KafkaClientOptions} for a subcommand, reporting missing brokers as a usage error. */
final class KafkaClients {
  private KafkaClients() {}

  static KafkaClientSettings resolve(KafkaClientOptions options, CommandSpec spec) throws IOException {
    try {
      return options.resolve();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }
}
