package io.moeflink.jobs;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of the corpus job ({@code moe-flink corpus}, and {@code flink run -c io.moeflink.jobs.CorpusJob}). */
@Command(name = "corpus", mixinStandardHelpOptions = true,
    description = "Corpus job: request files -> expert-parallel generation -> completion files; bounded, ends by itself.")
public class CorpusJobOptions {

  @Option(names = "--input", required = true, description = "A request file, a directory, or a glob (JSONL ours/OpenAI batch, or Avro).")
  public String input;

  @Option(names = "--output", required = true, description = "Output directory for completion part files.")
  public String output;

  @Option(names = "--format", defaultValue = "ours", description = "Output format: ours, openai-batch or avro (default ${DEFAULT-VALUE}).")
  public String format;

  @Option(names = "--dead-letters", description = "Directory for dead letters (default: OUTPUT/dead-letters).")
  public String deadLetters;

  @Option(names = "--resume", description = "Resume a crashed run from its latest retained checkpoint in --checkpoint-dir.")
  public boolean resume;

  @Mixin public GenerationOptions generation = new GenerationOptions();
}
