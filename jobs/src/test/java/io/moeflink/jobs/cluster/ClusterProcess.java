package io.moeflink.jobs.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One process of a test cluster (a JobManager, a TaskManager, a Kafka broker, a client), started
 * by the tests, with its standard output and error in a log file. {@link #kill()} is {@code kill
 * -9}: the process gets no chance to clean up, as when a machine dies.
 */
public final class ClusterProcess implements AutoCloseable {

  private static final Pattern THREAD = Pattern.compile("(?m)^\"([^\"]*)\"");
  private static final Pattern RESIDENT = Pattern.compile("(?m)^VmRSS:\\s+(\\d+) kB$");

  private final String name;
  private final Process process;
  private final Path output;

  private ClusterProcess(String name, Process process, Path output) {
    this.name = name;
    this.process = process;
    this.output = output;
  }

  /** Starts {@code command} with {@code environment} added, standard output and error to {@code output}. */
  public static ClusterProcess start(String name, List<String> command, Map<String, String> environment, Path output) {
    try {
      Files.createDirectories(output.getParent());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
      builder.environment().putAll(environment);
      return new ClusterProcess(name, builder.start(), output);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot start " + name + ": " + String.join(" ", command), e);
    }
  }

  /** A JVM of the test cluster: {@code java} of the running JDK with these options and class path. */
  public static List<String> javaCommand(List<String> jvmOptions, String classPath, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classPath, mainClass));
    command.addAll(args);
    return command;
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Where its standard output and error go. */
  public Path output() {
    return output;
  }

  /** What it wrote so far. */
  public String outputText() {
    try {
      return Files.readString(output, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + output + ": " + e.getMessage() + ")";
    }
  }

  /** {@code kill -9}, then waits until the process is gone. */
  public void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(30));
  }

  /** Its exit code, waiting up to {@code timeout}; throws if it is still running then. */
  public int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(name + " (pid " + pid() + ") still runs after " + timeout + "; see " + output);
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for " + name, e);
    }
  }

  /** Waits until its output contains {@code text}; fails early if the process exits. */
  public void awaitOutput(String text, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!outputText().contains(text)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited (" + process.exitValue() + ") before writing \"" + text
            + "\"; see " + output + ":\n" + tail(outputText()));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(name + " did not write \"" + text + "\" within " + timeout + "; see " + output);
      }
      sleep(Duration.ofMillis(100));
    }
  }

  /** Resident set size in bytes ({@code VmRSS} of {@code /proc/<pid>/status}). */
  public long residentBytes() {
    try {
      Matcher m = RESIDENT.matcher(Files.readString(Path.of("/proc", Long.toString(pid()), "status")));
      if (!m.find()) {
        throw new IllegalStateException("No VmRSS in /proc/" + pid() + "/status");
      }
      return Long.parseLong(m.group(1)) * 1024;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the memory of " + name + " (pid " + pid() + ")", e);
    }
  }

  /** Runs a diagnostic command in the JVM ({@code jcmd <pid> ...}) and returns what it printed. */
  public String jcmd(String... command) {
    List<String> line = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(pid())));
    line.addAll(List.of(command));
    try {
      Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", line) + " failed: " + new String(out, StandardCharsets.UTF_8));
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot run " + String.join(" ", line), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while running jcmd on " + name, e);
    }
  }

  /**
   * Live instances of {@code className} in the JVM's heap: {@code jcmd GC.class_histogram}, which
   * collects garbage first, so only instances something still references are counted.
   */
  public long liveInstances(String className) {
    Matcher m = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+\\d+\\s+" + Pattern.quote(className) + "(\\s|$)")
        .matcher(jcmd("GC.class_histogram"));
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  /** Names of the JVM's threads ({@code jcmd Thread.print}), numbers replaced by {@code #}, with how many have each. */
  public Map<String, Integer> threadNames() {
    Map<String, Integer> names = new java.util.TreeMap<>();
    Matcher m = THREAD.matcher(jcmd("Thread.print"));
    while (m.find()) {
      names.merge(m.group(1).replaceAll("\\d+", "#"), 1, Integer::sum);
    }
    return names;
  }

  /** Asks it to stop (SIGTERM) and kills it if it is still running after {@code grace}. */
  public void stop(Duration grace) {
    process.destroy();
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + ")";
  }

  static String tail(String text) {
    return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
  }

  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted", e);
    }
  }
}
