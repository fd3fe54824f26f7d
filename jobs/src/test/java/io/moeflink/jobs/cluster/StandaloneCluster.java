package io.moeflink.jobs.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

/**
 * A standalone Flink session cluster of separate JVMs on this machine, as {@code
 * bin/start-cluster.sh} and {@code bin/taskmanager.sh start} would run it from a Flink
 * distribution: a JobManager ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers
 * ({@code TaskManagerRunner}) on Flink's own class path (the jobs build writes it to {@code
 * target/flink-cluster.classpath}), a generated {@code conf/config.yaml}, JVM memory flags derived
 * from it by Flink's own utilities (as {@code BashJavaUtils} does for the scripts), and jobs
 * submitted with {@code flink run} ({@code CliFrontend}, in its own JVM) of the shaded job jar.
 *
 * <p>Everything lives under one work directory: {@code conf/}, {@code log/} (one {@code .log} and
 * one {@code .out} per process), {@code tmp/}. Ports are picked free at start.
 *
 * <pre>{@code
 * try (StandaloneCluster cluster = StandaloneCluster.builder(dir).build().start()) {
 *   cluster.startTaskManagers(2);
 *   String job = cluster.submit("io.moeflink.jobs.StreamingJob", args);
 *   cluster.rest().awaitState(job, Set.of("FINISHED"), Duration.ofMinutes(2));
 * }
 * }</pre>
 */
public final class StandaloneCluster implements AutoCloseable {

  /** The JVM flags a Flink distribution's {@code conf/config.yaml} sets for Java 17 ({@code env.java.opts.all}). */
  static final String FLINK_JAVA17_OPTS = String.join(" ",
      "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
      "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.text=ALL-UNNAMED",
      "--add-opens=java.base/java.time=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

  /** What the engine adds on every Flink JVM (README, k8s/base): the Vector API, bin/moe-flink's stack size, Avro's trusted package. */
  static final String MOE_FLINK_OPTS =
      "--add-modules jdk.incubator.vector -Xss4m -Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.moeflink.schemas";

  private static final Pattern SUBMITTED = Pattern.compile("Job has been submitted with JobID ([0-9a-f]{32})");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final Path workDir;
  private final Path conf;
  private final Path logs;
  private final Path jobJar;
  private final String classPath;
  private final Configuration configuration;
  private final FlinkRest rest;
  private final List<TaskManager> taskManagers = new CopyOnWriteArrayList<>();
  private final AtomicInteger taskManagerCount = new AtomicInteger();
  private final AtomicInteger clientCount = new AtomicInteger();
  private ClusterProcess jobManager;

  /** A TaskManager process and the resource id it registers with ({@code taskmanager.resource-id}). */
  public record TaskManager(String resourceId, ClusterProcess process) {}

  private StandaloneCluster(Builder b) {
    this.workDir = b.workDir.toAbsolutePath();
    this.conf = workDir.resolve("conf");
    this.logs = workDir.resolve("log");
    this.jobJar = b.jobJar.toAbsolutePath();
    this.classPath = readClassPath(b.classPathFile);
    Map<String, String> options = new LinkedHashMap<>();
    options.put("jobmanager.rpc.address", "localhost");
    options.put("jobmanager.bind-host", "localhost");
    options.put("jobmanager.rpc.port", Integer.toString(freePort()));
    options.put("rest.address", "localhost");
    options.put("rest.bind-address", "localhost");
    options.put("rest.port", Integer.toString(freePort()));
    options.put("blob.server.port", Integer.toString(freePort()));
    options.put("taskmanager.host", "localhost");
    options.put("taskmanager.bind-host", "localhost");
    options.put("jobmanager.execution.failover-strategy", "region");
    options.put("jobmanager.memory.heap.size", "256m");
    options.put("jobmanager.memory.jvm-metaspace.size", "192m");
    options.put("taskmanager.numberOfTaskSlots", Integer.toString(b.slotsPerTaskManager));
    // Placement: spread the job's slots over the TaskManagers (the README's cluster section).
    options.put("taskmanager.load-balance.mode", "SLOTS");
    options.put("taskmanager.memory.task.heap.size", b.taskHeap);
    options.put("taskmanager.memory.managed.size", "0m");
    options.put("taskmanager.memory.network.min", "32m");
    options.put("taskmanager.memory.network.max", "32m");
    options.put("taskmanager.memory.jvm-metaspace.size", "192m");
    options.put("taskmanager.memory.jvm-overhead.min", "128m");
    options.put("state.backend.type", "hashmap");
    // A killed TaskManager is noticed after two failed heartbeat calls (heartbeat.rpc-failure-threshold),
    // a second or two here instead of Flink's 10 s interval: the restart strategy does not depend on it,
    // the test's run time does.
    options.put("heartbeat.interval", "1000");
    options.put("heartbeat.timeout", "15000");
    options.put("io.tmp.dirs", workDir.resolve("tmp").toString());
    options.put("web.tmpdir", workDir.resolve("tmp").toString());
    options.put("blob.storage.directory", workDir.resolve("tmp").toString());
    options.put("env.java.opts.all", FLINK_JAVA17_OPTS + " " + MOE_FLINK_OPTS);
    // A full GC also clears soft references, as the JVM does anyway before it runs out of memory, so
    // that what only soft caches hold (java.beans' introspection cache holds Jinjava's classes) counts
    // as collectable.
    options.put("env.java.opts.taskmanager", "-XX:SoftRefLRUPolicyMSPerMB=0");
    options.putAll(b.options);
    this.configuration = Configuration.fromMap(options);
    this.rest = new FlinkRest(URI.create("http://localhost:" + options.get("rest.port")));
  }

  /** A cluster whose files go under {@code workDir}. */
  public static Builder builder(Path workDir) {
    return new Builder(workDir);
  }

  /** Writes the configuration and starts the JobManager; returns once its REST API answers. */
  public StandaloneCluster start() {
    writeConfiguration();
    JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(configuration);
    List<String> jvm = jvmOptions("jobmanager", JobManagerProcessUtils.generateJvmParametersStr(spec, configuration));
    List<String> args = new ArrayList<>(List.of("--configDir", conf.toString()));
    args.addAll(split(JobManagerProcessUtils.generateDynamicConfigsStr(spec)));
    jobManager = ClusterProcess.start("jobmanager",
        ClusterProcess.javaCommand(jvm, classPath, "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", args),
        Map.of(), logs.resolve("jobmanager.out"));
    FlinkRest.await("the JobManager's REST API on " + rest.address() + " (" + logs.resolve("jobmanager.log") + ")",
        START_TIMEOUT, () -> {
          if (!jobManager.isAlive()) {
            throw new IllegalStateException("The JobManager exited: " + ClusterProcess.tail(jobManager.outputText()));
          }
          return rest.isUp();
        });
    return this;
  }

  /** Starts {@code count} TaskManagers at once and waits until all have registered. */
  public List<TaskManager> startTaskManagers(int count) {
    List<TaskManager> started = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      started.add(launchTaskManager());
    }
    for (TaskManager tm : started) {
      awaitRegistered(tm);
    }
    return started;
  }

  /** Starts one TaskManager and waits until it has registered. */
  public TaskManager startTaskManager() {
    TaskManager tm = launchTaskManager();
    awaitRegistered(tm);
    return tm;
  }

  /** {@code kill -9} of a TaskManager. */
  public void kill(TaskManager tm) {
    tm.process().kill();
    taskManagers.remove(tm);
  }

  /** Kills every TaskManager (a fresh set for the next test). */
  public void killTaskManagers() {
    for (TaskManager tm : List.copyOf(taskManagers)) {
      kill(tm);
    }
  }

  /** The TaskManagers started and not killed. */
  public List<TaskManager> taskManagers() {
    return List.copyOf(taskManagers);
  }

  /** The TaskManager with this resource id, if it is one of ours and alive. */
  public Optional<TaskManager> taskManager(String resourceId) {
    return taskManagers.stream().filter(tm -> tm.resourceId().equals(resourceId)).findFirst();
  }

  public ClusterProcess jobManager() {
    return jobManager;
  }

  public FlinkRest rest() {
    return rest;
  }

  /** Where the processes' logs are. */
  public Path logDirectory() {
    return logs;
  }

  /** {@code flink run -d -c entryClass job.jar args}: submits the job and returns its id. */
  public String submit(String entryClass, List<String> args) {
    return submit(entryClass, null, args);
  }

  /**
   * {@code flink run -d [-s restorePath] -c entryClass job.jar args}: submits the job (restored from
   * a savepoint or retained checkpoint when {@code restorePath} is given) and returns its id.
   */
  public String submit(String entryClass, String restorePath, List<String> args) {
    List<String> cli = new ArrayList<>(List.of("run", "-d", "-c", entryClass));
    if (restorePath != null) {
      cli.addAll(List.of("-s", restorePath));
    }
    cli.add(jobJar.toString());
    cli.addAll(args);
    String name = "client-" + clientCount.incrementAndGet();
    List<String> jvm = jvmOptions(name, "-Xmx256m");
    ClusterProcess client = ClusterProcess.start(name,
        ClusterProcess.javaCommand(jvm, classPath, "org.apache.flink.client.cli.CliFrontend", cli),
        Map.of("FLINK_CONF_DIR", conf.toString()), logs.resolve(name + ".out"));
    int exit = client.awaitExit(Duration.ofMinutes(2));
    String output = client.outputText();
    Matcher m = SUBMITTED.matcher(output);
    if (exit != 0 || !m.find()) {
      throw new IllegalStateException("flink run " + String.join(" ", cli) + " failed (exit " + exit + "):\n"
          + ClusterProcess.tail(output));
    }
    return m.group(1);
  }

  @Override
  public void close() {
    killTaskManagers();
    if (jobManager != null) {
      jobManager.kill();
    }
  }

  private TaskManager launchTaskManager() {
    String id = "taskmanager-" + taskManagerCount.incrementAndGet();
    TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(configuration);
    List<String> jvm = jvmOptions(id, ProcessMemoryUtils.generateJvmParametersStr(spec));
    List<String> args = new ArrayList<>(List.of("--configDir", conf.toString(), "-D", "taskmanager.resource-id=" + id));
    args.addAll(split(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec)));
    ClusterProcess process = ClusterProcess.start(id,
        ClusterProcess.javaCommand(jvm, classPath, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", args),
        Map.of(), logs.resolve(id + ".out"));
    TaskManager tm = new TaskManager(id, process);
    taskManagers.add(tm);
    return tm;
  }

  private void awaitRegistered(TaskManager tm) {
    FlinkRest.await(tm.resourceId() + " registered (" + logs.resolve(tm.resourceId() + ".log") + ")", START_TIMEOUT, () -> {
      if (!tm.process().isAlive()) {
        throw new IllegalStateException(tm.resourceId() + " exited: " + ClusterProcess.tail(tm.process().outputText()));
      }
      return rest.taskManagerIds().contains(tm.resourceId());
    });
  }

  /** The JVM options the scripts would pass: env.java.opts.all and .{jobmanager,taskmanager,client}, memory, logging. */
  private List<String> jvmOptions(String processName, String memory) {
    String role = processName.replaceAll("-\\d+$", "");
    List<String> jvm = new ArrayList<>(split(configuration.getString("env.java.opts.all", "")));
    jvm.addAll(split(configuration.getString("env.java.opts." + role, "")));
    jvm.addAll(split(memory));
    if (role.equals("taskmanager")) {
      // Java 17 turns a constructor or method called reflectively 15 times into a generated
      // accessor class, whose DelegatingClassLoader has the job's class loader as parent and was
      // seen to outlive the job (a heap dump held the two extra job class loaders of a failed-over
      // TaskManager only through those); Java 18+ has no such classes (JEP 416). The class-loader
      // checks count what the job leaves behind, not the JDK's reflection caches.
      jvm.add("-Dsun.reflect.inflationThreshold=" + Integer.MAX_VALUE);
    }
    jvm.add("-Dlog.file=" + logs.resolve(processName + ".log"));
    jvm.add("-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri());
    return jvm;
  }

  private void writeConfiguration() {
    try {
      Files.createDirectories(conf);
      Files.createDirectories(logs);
      Files.createDirectories(workDir.resolve("tmp"));
      StringBuilder yaml = new StringBuilder("# Written by StandaloneCluster (moe-flink cluster tests)\n");
      configuration.toMap().forEach((k, v) -> yaml.append(k).append(": \"")
          .append(v.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n"));
      Files.writeString(conf.resolve("config.yaml"), yaml, StandardCharsets.UTF_8);
      Files.writeString(conf.resolve("log4j.properties"), String.join("\n",
          "rootLogger.level = INFO",
          "rootLogger.appenderRef.main.ref = MainAppender",
          "logger.kafka.name = org.apache.kafka",
          "logger.kafka.level = WARN",
          "appender.main.name = MainAppender",
          "appender.main.type = File",
          "appender.main.append = true",
          "appender.main.fileName = ${sys:log.file}",
          "appender.main.layout.type = PatternLayout",
          "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1.} [%t] - %m%n", ""), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the cluster configuration in " + conf, e);
    }
  }

  private static String readClassPath(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read Flink's class path from " + file
          + "; it is written by the jobs build (mvn -B -DskipTests package)", e);
    }
  }

  private static List<String> split(String options) {
    return options.isBlank() ? List.of() : Arrays.asList(options.trim().split("\\s+"));
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot find a free port", e);
    }
  }

  /** Configures a {@link StandaloneCluster}. */
  public static final class Builder {
    private final Path workDir;
    private Path jobJar = Path.of("target", "moe-flink-job.jar");
    private Path classPathFile = Path.of("target", "flink-cluster.classpath");
    private int slotsPerTaskManager = 2;
    private String taskHeap = "384m";
    private final Map<String, String> options = new LinkedHashMap<>();

    private Builder(Path workDir) {
      this.workDir = workDir;
    }

    /** Task slots per TaskManager (default 2). */
    public Builder slotsPerTaskManager(int slots) {
      this.slotsPerTaskManager = slots;
      return this;
    }

    /** The TaskManagers' task heap ({@code taskmanager.memory.task.heap.size}, default 384m). */
    public Builder taskHeap(String size) {
      this.taskHeap = size;
      return this;
    }

    /** Any other Flink option, written to {@code conf/config.yaml}. */
    public Builder option(String key, String value) {
      options.put(key, value);
      return this;
    }

    public StandaloneCluster build() {
      if (!Files.isRegularFile(jobJar)) {
        throw new IllegalStateException("No job jar at " + jobJar.toAbsolutePath() + "; run mvn -B -DskipTests package");
      }
      return new StandaloneCluster(this);
    }
  }
}
