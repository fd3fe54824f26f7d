package io.moeflink.cli;

import io.moeflink.jobs.CorpusJob;
import io.moeflink.jobs.CorpusJobOptions;
import io.moeflink.jobs.CorpusOutput;
import io.moeflink.jobs.CorpusSize;
import io.moeflink.jobs.InferencePipeline;
import io.moeflink.jobs.JobPreflight;
import io.moeflink.jobs.LatestCheckpoint;
import io.moeflink.jobs.ProgressBoard;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink corpus}: the corpus job on a local MiniCluster with a progress bar (records
 * done/total, tokens/s, ETA) and {@code --resume} from the latest retained checkpoint.
 */
@Command(name = "corpus", mixinStandardHelpOptions = true,
    description = "Run a corpus job locally: request files -> generation -> completion files, with progress and resume.")
final class CorpusCommand extends CorpusJobOptions implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    JobPreflight.corpus(this); // input, formats, model, placement: before the job starts
    CorpusOutput existing = CorpusJob.checkOutput(this); // completions of another run: refuse, or skip with --resume
    if (resume && existing.finished()) {
      err.println(spec.qualifiedName() + ": the run into " + output + " already finished (" + existing.committedIds().size()
          + " completions); nothing to do (give a new --output to answer the corpus again)");
      return 0;
    }
    long done = existing.committedRecords();
    Configuration config = InferencePipeline.configuration(generation);
    if (resume) {
      Optional<Path> latest = LatestCheckpoint.find(Path.of(java.net.URI.create(InferencePipeline.asUri(generation.checkpointDir))));
      if (latest.isEmpty()) {
        err.println("No retained checkpoint under " + generation.checkpointDir + ": starting from the beginning");
      } else {
        err.println("Resuming from " + latest.get());
        config.setString("execution.state-recovery.path", latest.get().toUri().toString());
      }
    }
    long total = CorpusSize.count(input);
    String runId = UUID.randomUUID().toString();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
    CorpusJob.build(env, this, runId);
    long start = System.nanoTime();
    JobClient job = env.executeAsync("moe-flink corpus " + input);
    ProgressBoard.Progress progress = ProgressBoard.of(runId);
    try (ProgressBar bar = new ProgressBarBuilder().setTaskName("corpus").setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
        .showSpeed().build()) {
      while (!job.getJobExecutionResult().isDone()) {
        bar.stepTo(done + progress.records());
        bar.setExtraMessage(String.format(java.util.Locale.ROOT, " %.1f tokens/s", tokensPerSecond(progress, start)));
        try {
          job.getJobExecutionResult().get(500, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException stillRunning) {
          // keep reporting
        }
      }
      bar.stepTo(done + progress.records());
      bar.setExtraMessage(String.format(java.util.Locale.ROOT, " %.1f tokens/s", tokensPerSecond(progress, start)));
    }
    job.getJobExecutionResult().get();
    CorpusOutput.markFinished(output, done + progress.records(), input);
    double seconds = (System.nanoTime() - start) / 1e9;
    spec.commandLine().getOut().printf(java.util.Locale.ROOT,
        "corpus: %d records of %d done in %.1f s, %d completion tokens, %.1f tokens/s -> %s%n",
        done + progress.records(), total, seconds, progress.tokens(), progress.tokens() / seconds, output);
    ProgressBoard.remove(runId);
    return 0;
  }

  private static double tokensPerSecond(ProgressBoard.Progress p, long startNanos) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    return seconds <= 0 ? 0 : p.tokens() / seconds;
  }

}
