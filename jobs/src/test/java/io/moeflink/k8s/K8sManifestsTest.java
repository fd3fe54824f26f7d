package io.moeflink.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.cli.MoeFlinkCli;
import io.moeflink.jobs.CorpusJobOptions;
import io.moeflink.jobs.GenerationOptions;
import io.moeflink.jobs.StreamingJobOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * Checks the Kubernetes deployment under {@code k8s/} and the {@code Dockerfile} against the
 * build: kinds and API versions, job arguments the CLI accepts, jar path and entry classes, GPU
 * resources only on the gpu overlay with one slot per GPU, secrets only by reference. Overlays are
 * rendered by {@link Kustomize}; where {@code kubectl} is installed, its rendering must be the same.
 */
class K8sManifestsTest {

  private static final Path ROOT = repositoryRoot();
  private static final Path K8S = ROOT.resolve("k8s");
  private static final Path DOCKERFILE = ROOT.resolve("Dockerfile");

  private static final String NAMESPACE = "moe-flink";
  /** The Secret holding the Kafka client properties (brokers, TLS, SASL); created by the user, never in k8s/. */
  private static final String KAFKA_SECRET = "moe-flink-kafka-client";
  private static final String JAR_IN_IMAGE = "/opt/flink/usrlib/moe-flink-job.jar";
  private static final String JAR_BUILT = "jobs/target/moe-flink-job.jar";
  private static final String FLINK_HOME = "/opt/flink/";
  /** Where the jobs build leaves Flink's GPU plugin; the Dockerfile copies it to FLINK_HOME/plugins/. */
  private static final Path GPU_PLUGIN_BUILT = ROOT.resolve("jobs/target/flink-plugins/external-resource-gpu");
  private static final String GPU_DRIVER_FACTORY = "org.apache.flink.externalresource.gpu.GPUDriverFactory";
  private static final String VECTOR_MODULE = "--add-modules jdk.incubator.vector";
  private static final String AVRO_TRUSTED = "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.moeflink.schemas";

  /** Every kind under k8s/ and the API version it must use. */
  private static final Map<String, String> API_VERSIONS = Map.of(
      "FlinkDeployment", "flink.apache.org/v1beta1",
      "KafkaTopic", "kafka.strimzi.io/v1beta2",
      "PersistentVolumeClaim", "v1",
      "ServiceAccount", "v1",
      "Role", "rbac.authorization.k8s.io/v1",
      "RoleBinding", "rbac.authorization.k8s.io/v1",
      "Job", "batch/v1",
      "Kustomization", "kustomize.config.k8s.io/v1beta1");

  /** The options class that parses each entry class's arguments. */
  private static final Map<String, Class<?>> OPTIONS = Map.of(
      "io.moeflink.jobs.StreamingJob", StreamingJobOptions.class,
      "io.moeflink.jobs.CorpusJob", CorpusJobOptions.class);

  /** Names that must never carry a literal value in env. */
  private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(password|secret|token|credential|jaas|api.?key).*");
  /** Text that must never appear in job arguments or Flink configuration. */
  private static final Pattern SECRET_TEXT =
      Pattern.compile("(?i)(password|sasl\\.jaas|secret\\s*=|token\\s*=|BEGIN [A-Z ]*PRIVATE KEY)");

  @Test
  void everyManifestHasAKnownKindAndApiVersion() {
    List<Path> files = yamlFiles();
    assertThat(files).hasSizeGreaterThan(10);
    for (Path file : files) {
      for (JsonNode document : Kustomize.readDocuments(file)) {
        if (document.isArray()) { // a JSON patch: a list of operations
          assertThat(document).as(file + " JSON patch").allSatisfy(op -> assertThat(op.has("op") && op.has("path")).isTrue());
          continue;
        }
        String kind = document.path("kind").asText();
        assertThat(API_VERSIONS).as("%s: kind %s", file, kind).containsKey(kind);
        assertThat(document.path("apiVersion").asText()).as("%s: apiVersion of %s", file, kind).isEqualTo(API_VERSIONS.get(kind));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void overlayRendersBothJobsTopicsVolumesAndRbac(String overlay) {
    List<ObjectNode> resources = render(overlay);
    assertThat(resources).extracting(K8sManifestsTest::id).containsExactlyInAnyOrder(
        "FlinkDeployment/moe-flink-streaming", "FlinkDeployment/moe-flink-corpus",
        "KafkaTopic/moe-flink-requests", "KafkaTopic/moe-flink-completions", "KafkaTopic/moe-flink-dead-letters",
        "PersistentVolumeClaim/moe-flink-model", "PersistentVolumeClaim/moe-flink-state",
        "PersistentVolumeClaim/moe-flink-corpus",
        "ServiceAccount/moe-flink", "Role/moe-flink-jobmanager", "RoleBinding/moe-flink-jobmanager");
    assertThat(resources).allSatisfy(resource -> {
      assertThat(resource.at("/metadata/namespace").asText()).as(id(resource)).isEqualTo(NAMESPACE);
      assertThat(resource.at("/metadata/labels/app.kubernetes.io~1part-of").asText()).as(id(resource)).isEqualTo("moe-flink");
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void rendersLikeKubectlKustomize(String overlay) throws Exception {
    Optional<String> kubectl = kubectl();
    assumeTrue(kubectl.isPresent(), "kubectl is not on PATH; the overlays were rendered by the test's own Kustomize only");
    Path dir = K8S.resolve("overlays").resolve(overlay);
    Process process = new ProcessBuilder(kubectl.get(), "kustomize", dir.toString()).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(new String(output, StandardCharsets.UTF_8)).isZero();
    Path rendered = Files.createTempFile("kustomize-" + overlay, ".yaml");
    try {
      Files.write(rendered, output);
      assertThat(byId(Kustomize.readAll(rendered))).isEqualTo(byId(render(overlay)));
    } finally {
      Files.delete(rendered);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void everyJobArgumentIsOneTheEntryClassAccepts(String overlay) {
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      String entryClass = deployment.at("/spec/job/entryClass").asText();
      assertThat(OPTIONS).as(id(deployment) + " entryClass").containsKey(entryClass);
      List<String> args = args(deployment);
      assertThatCode(() -> parse(OPTIONS.get(entryClass), args))
          .as("%s %s args %s", overlay, id(deployment), args).doesNotThrowAnyException();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void jarPathAndEntryClassMatchTheBuild(String overlay) throws IOException {
    String dockerfile = Files.readString(DOCKERFILE);
    assertThat(dockerfile).containsPattern(
        "(?m)^COPY\\b.*\\s" + Pattern.quote(JAR_BUILT) + "\\s+" + Pattern.quote(JAR_IN_IMAGE) + "\\s*$");
    assertThat(Files.readString(ROOT.resolve(".dockerignore"))).contains("!" + JAR_BUILT);
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      assertThat(deployment.at("/spec/job/jarURI").asText()).as(id(deployment)).isEqualTo("local://" + JAR_IN_IMAGE);
      String entryClass = deployment.at("/spec/job/entryClass").asText();
      assertThatCode(() -> Class.forName(entryClass)).as("entryClass of " + id(deployment)).doesNotThrowAnyException();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void imageAndFlinkVersionMatchTheBuild(String overlay) throws IOException {
    String flinkVersion = pomProperty("flink.version");
    Matcher image = Pattern.compile("(?m)^ARG FLINK_IMAGE=flink:(\\S+)$").matcher(Files.readString(DOCKERFILE));
    assertThat(image.find()).as("ARG FLINK_IMAGE in the Dockerfile").isTrue();
    assertThat(image.group(1)).startsWith(flinkVersion + "-").contains("java21");
    String[] majorMinor = flinkVersion.split("\\.");
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      assertThat(deployment.at("/spec/flinkVersion").asText()).as(id(deployment))
          .isEqualTo("v" + majorMinor[0] + "_" + majorMinor[1]);
      assertThat(deployment.at("/spec/image").asText()).as(id(deployment)).endsWith("-" + overlay);
      // The CRD of operator releases types flinkConfiguration as a map of strings.
      deployment.at("/spec/flinkConfiguration").properties().forEach(entry ->
          assertThat(entry.getValue().isTextual()).as("%s flinkConfiguration %s", id(deployment), entry.getKey()).isTrue());
    }
  }

  @Test
  void gpuResourcesOnlyInTheGpuOverlayWithOneSlotPerGpu() throws IOException {
    for (ObjectNode deployment : flinkDeployments("cpu")) {
      assertThat(Kustomize.YAML.writeValueAsString(deployment)).as(id(deployment)).doesNotContain("nvidia.com/gpu");
      assertThat(config(deployment)).doesNotContainKey("external-resources");
      assertThat(generation(deployment).backend).isNotEqualTo(BackendKind.CUDA);
    }
    for (ObjectNode deployment : flinkDeployments("gpu")) {
      Map<String, String> config = config(deployment);
      String gpus = config.get("external-resource.gpu.amount");
      assertThat(gpus).as(id(deployment)).isEqualTo("1");
      assertThat(config).as(id(deployment)).containsEntry("taskmanager.numberOfTaskSlots", gpus)
          .containsEntry("external-resources", "gpu")
          .containsEntry("external-resource.gpu.kubernetes.config-key", "nvidia.com/gpu")
          .containsEntry("external-resource.gpu.driver-factory.class", GPU_DRIVER_FACTORY);
      assertThat(deployment.at("/spec/taskManager/podTemplate/spec/containers/0/resources/limits/nvidia.com~1gpu").asText())
          .as(id(deployment) + " TaskManager GPU limit").isEqualTo(gpus);
      assertThat(deployment.at("/spec/taskManager/podTemplate/spec/containers/0/name").asText()).isEqualTo("flink-main-container");
      assertThat(Kustomize.YAML.writeValueAsString(deployment.at("/spec/podTemplate")))
          .as(id(deployment) + " JobManager and TaskManager pod template").doesNotContain("nvidia.com/gpu");
      assertThat(generation(deployment).backend).as(id(deployment)).isEqualTo(BackendKind.CUDA);

      // The discovery script is in the image where the configuration says: the Dockerfile copies
      // the plugin directory that the jobs build fills from the plugin jar.
      String script = config.get("external-resource.gpu.param.discovery-script.path");
      assertThat(script).startsWith(FLINK_HOME + "plugins/external-resource-gpu/");
      assertThat(GPU_PLUGIN_BUILT.resolve(Path.of(script).getFileName())).as("built by mvn generate-test-resources").isRegularFile();
      try (JarFile plugin = new JarFile(pluginJar().toFile())) {
        assertThat(plugin.getEntry(GPU_DRIVER_FACTORY.replace('.', '/') + ".class")).isNotNull();
      }
    }
    String dockerfile = Files.readString(DOCKERFILE);
    String gpuStage = dockerfile.substring(dockerfile.indexOf(" AS gpu"));
    assertThat(gpuStage).containsPattern(
        "(?m)^COPY\\b.*\\sjobs/target/flink-plugins/external-resource-gpu/\\s+" + FLINK_HOME + "plugins/external-resource-gpu/\\s*$");
    assertThat(dockerfile.substring(0, dockerfile.indexOf(" AS gpu"))).doesNotContain("external-resource-gpu/ ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void secretsOnlyByReference(String overlay) {
    for (Path file : yamlFiles()) {
      for (JsonNode document : Kustomize.readDocuments(file)) {
        assertThat(document.path("kind").asText()).as(file.toString()).isNotEqualTo("Secret");
      }
    }
    List<JsonNode> workloads = new ArrayList<>(render(overlay));
    workloads.addAll(Kustomize.readAll(K8S.resolve("model/make-demo-model.yaml")));
    for (JsonNode resource : workloads) {
      for (JsonNode env : resource.findValues("env")) {
        for (JsonNode variable : env) {
          if (SECRET_NAME.matcher(variable.path("name").asText()).matches()) {
            assertThat(variable.has("value")).as("%s env %s must come from valueFrom.secretKeyRef", id(resource), variable).isFalse();
          }
        }
      }
    }
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      List<String> text = new ArrayList<>(args(deployment));
      text.addAll(config(deployment).values());
      assertThat(text).as(id(deployment)).noneMatch(value -> SECRET_TEXT.matcher(value).find());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void kafkaBrokersAndSettingsComeFromTheSecretNeverInline(String overlay) throws IOException {
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      assertThat(args(deployment)).as("%s: the brokers come from bootstrap.servers of the Secret's file", id(deployment))
          .noneMatch(arg -> arg.equals("--bootstrap") || arg.startsWith("--bootstrap="));
    }
    ObjectNode streaming = deployment(overlay, "moe-flink-streaming");
    StreamingJobOptions options = parse(StreamingJobOptions.class, args(streaming));
    assertThat(options.kafka.bootstrap).isNull();
    Path properties = options.kafka.kafkaProperties;
    assertThat(properties).as("--kafka-properties").isNotNull();
    JsonNode volume = volumeMountedAt(streaming, properties.toString());
    assertThat(volume.at("/secret/secretName").asText()).as("volume holding " + properties).isEqualTo(KAFKA_SECRET);
    // The README tells what the Secret's properties file must hold, the brokers first of all.
    String readme = Files.readString(K8S.resolve("README.md"));
    assertThat(readme).contains("secret generic " + KAFKA_SECRET, "--from-file=" + properties.getFileName(), "bootstrap.servers=");
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void jvmOptionsEnableTheVectorApiAndTrustTheAvroSchemas(String overlay) throws IOException {
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      assertThat(config(deployment).get("env.java.opts.all")).as(id(deployment)).contains(VECTOR_MODULE, AVRO_TRUSTED);
    }
    // The tokenizer is pure Java: no native library to configure (DJL's RUST_FLAVOR is gone).
    assertThat(Files.readString(DOCKERFILE)).doesNotContain("RUST_FLAVOR");
    assertThat(Files.readString(K8S.resolve("image/moe-flink"))).contains(VECTOR_MODULE, "io.moeflink.cli.MoeFlinkCli", JAR_IN_IMAGE);
  }

  /**
   * The CPU kernels' re-laid-out weights live on the task heap, so every deployment gives it room,
   * the CPU overlay (two slots) more than the base, as Flink's own memory model sizes the
   * TaskManager from the pod's memory (which the operator passes as {@code
   * taskmanager.memory.process.size}), and the network buffers keep their share.
   */
  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void taskHeapHoldsTheReLaidOutWeights(String overlay) {
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      Map<String, String> config = config(deployment);
      Configuration flink = Configuration.fromMap(config);
      String process = deployment.at("/spec/taskManager/resource/memory").asText();
      flink.set(TaskManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse(process));
      TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(flink);
      int pod = MemorySize.parse(process).getMebiBytes();
      assertThat(spec.getTaskHeapSize().getMebiBytes()).as(id(deployment) + " task heap")
          .isGreaterThanOrEqualTo(overlay.equals("cpu") ? 8192 : 1024);
      assertThat(spec.getNetworkMemSize().getMebiBytes()).as(id(deployment) + " network").isLessThan(pod / 8);
      assertThat(Double.parseDouble(config.get("taskmanager.memory.managed.fraction"))).as(id(deployment)).isLessThan(0.1);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void stateCheckpointsAndSavepointsLiveOnTheSharedVolume(String overlay) {
    List<String> checkpointDirs = new ArrayList<>();
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      Map<String, String> config = config(deployment);
      String checkpoints = config.get("execution.checkpointing.dir");
      assertThat(generation(deployment).checkpointDir).as(id(deployment) + " --checkpoint-dir").isEqualTo(checkpoints);
      assertThat(config).containsEntry("high-availability.type", "kubernetes");
      for (String key : List.of("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir", "high-availability.storageDir")) {
        String uri = config.get(key);
        assertThat(uri).as(id(deployment) + " " + key).startsWith("file:///");
        JsonNode volume = volumeMountedAt(deployment, uri.substring("file://".length()));
        assertThat(volume.at("/persistentVolumeClaim/claimName").asText()).as(key).isEqualTo("moe-flink-state");
      }
      assertThat(deployment.at("/spec/job/upgradeMode").asText()).isIn("savepoint", "last-state");
      // The job leaves the restart strategy to the cluster (InferencePipeline.configuration): exponential
      // delay without an attempt limit, so that a lost TaskManager pod never fails the job.
      assertThat(config).as(id(deployment)).containsEntry("restart-strategy.type", "exponential-delay")
          .containsEntry("restart-strategy.exponential-delay.attempts-before-reset-backoff", String.valueOf(Integer.MAX_VALUE));
      // Slots spread over the TaskManagers, not packed onto the first.
      assertThat(config).as(id(deployment)).containsEntry("taskmanager.load-balance.mode", "SLOTS");
      checkpointDirs.add(checkpoints);
    }
    assertThat(checkpointDirs).doesNotHaveDuplicates();
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void jobParallelismCoversTheGenerationSubtasksAndExpertShards(String overlay) {
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      GenerationOptions generation = generation(deployment);
      assertThat(deployment.at("/spec/job/parallelism").asInt()).as(id(deployment))
          .isEqualTo(Math.max(generation.parallelism, generation.expertShards));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void topicsNameTheStrimziResources(String overlay) {
    List<ObjectNode> resources = render(overlay);
    Map<String, ObjectNode> topics = new TreeMap<>();
    resources.stream().filter(r -> r.path("kind").asText().equals("KafkaTopic"))
        .forEach(topic -> topics.put(topic.at("/metadata/name").asText(), topic));
    StreamingJobOptions options = parse(StreamingJobOptions.class, args(deployment(overlay, "moe-flink-streaming")));
    assertThat(topics).containsOnlyKeys(options.requests, options.completions, options.deadLetters);
    assertThat(topics.values().stream().map(topic -> topic.at("/metadata/labels/strimzi.io~1cluster").asText()).distinct())
        .as("strimzi.io/cluster: one Kafka cluster for all topics").singleElement().asString().isNotBlank();
    for (ObjectNode topic : topics.values()) {
      int replicas = topic.at("/spec/replicas").asInt();
      int minInSync = topic.at("/spec/config/min.insync.replicas").asInt();
      assertThat(minInSync).as(id(topic)).isGreaterThan(1).isLessThan(replicas);
    }
    assertThat(topics.get(options.requests).at("/spec/partitions").asInt())
        .as("request partitions bound the source parallelism").isGreaterThanOrEqualTo(options.generation.parallelism);
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void modelVolumeHoldsTheDirectoryTheJobsRead(String overlay) {
    ObjectNode makeModel = Kustomize.readAll(K8S.resolve("model/make-demo-model.yaml")).get(0);
    JsonNode container = makeModel.at("/spec/template/spec/containers/0");
    List<String> cliArgs = strings(container.path("args"));
    assertThat(strings(container.path("command"))).containsExactly("moe-flink");
    assertThatCode(() -> new CommandLine(new MoeFlinkCli()).parseArgs(cliArgs.toArray(String[]::new)))
        .as("make-model args %s", cliArgs).doesNotThrowAnyException();
    String written = cliArgs.get(cliArgs.indexOf("--out") + 1);
    assertThat(makeModel.at("/metadata/namespace").asText()).isEqualTo(NAMESPACE);
    assertThat(makeModel.at("/spec/template/spec/volumes/0/persistentVolumeClaim/claimName").asText()).isEqualTo("moe-flink-model");
    for (ObjectNode deployment : flinkDeployments(overlay)) {
      String model = generation(deployment).model;
      assertThat(model).as(id(deployment) + " --model").isEqualTo(written);
      JsonNode volume = volumeMountedAt(deployment, model);
      assertThat(volume.at("/persistentVolumeClaim/claimName").asText()).isEqualTo("moe-flink-model");
    }
  }

  // ---- helpers ----

  private static List<ObjectNode> render(String overlay) {
    return Kustomize.render(K8S.resolve("overlays").resolve(overlay));
  }

  private static List<ObjectNode> flinkDeployments(String overlay) {
    List<ObjectNode> deployments = render(overlay).stream()
        .filter(resource -> resource.path("kind").asText().equals("FlinkDeployment")).toList();
    assertThat(deployments).hasSize(2);
    return deployments;
  }

  private static ObjectNode deployment(String overlay, String name) {
    return flinkDeployments(overlay).stream()
        .filter(d -> d.at("/metadata/name").asText().equals(name)).findFirst().orElseThrow();
  }

  private static String id(JsonNode resource) {
    return resource.path("kind").asText() + "/" + resource.at("/metadata/name").asText();
  }

  private static Map<String, JsonNode> byId(List<ObjectNode> resources) {
    Map<String, JsonNode> byId = new TreeMap<>();
    resources.forEach(resource -> byId.put(id(resource), resource));
    assertThat(byId).hasSameSizeAs(resources);
    return byId;
  }

  private static List<String> args(JsonNode deployment) {
    return strings(deployment.at("/spec/job/args"));
  }

  private static List<String> strings(JsonNode array) {
    List<String> strings = new ArrayList<>();
    array.forEach(value -> strings.add(value.asText()));
    return strings;
  }

  private static Map<String, String> config(JsonNode deployment) {
    Map<String, String> config = new TreeMap<>();
    deployment.at("/spec/flinkConfiguration").properties().forEach(e -> config.put(e.getKey(), e.getValue().asText()));
    return config;
  }

  private static <T> T parse(Class<T> optionsClass, List<String> args) {
    try {
      T options = optionsClass.getDeclaredConstructor().newInstance();
      new CommandLine(options).parseArgs(args.toArray(String[]::new));
      return options;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static GenerationOptions generation(JsonNode deployment) {
    String entryClass = deployment.at("/spec/job/entryClass").asText();
    Object options = parse(OPTIONS.get(entryClass), args(deployment));
    return options instanceof StreamingJobOptions streaming ? streaming.generation : ((CorpusJobOptions) options).generation;
  }

  /** The pod volume whose mount (in the shared pod template) contains {@code path}. */
  private static JsonNode volumeMountedAt(JsonNode deployment, String path) {
    JsonNode pod = deployment.at("/spec/podTemplate/spec");
    JsonNode mount = null;
    for (JsonNode candidate : pod.at("/containers/0/volumeMounts")) {
      String mountPath = candidate.path("mountPath").asText();
      if (path.equals(mountPath) || path.startsWith(mountPath.endsWith("/") ? mountPath : mountPath + "/")) {
        mount = candidate;
      }
    }
    assertThat(mount).as("%s: a volume mount containing %s", id(deployment), path).isNotNull();
    String name = mount.path("name").asText();
    for (JsonNode volume : pod.path("volumes")) {
      if (volume.path("name").asText().equals(name)) {
        return volume;
      }
    }
    throw new AssertionError(id(deployment) + ": no volume named " + name);
  }

  private static Path pluginJar() throws IOException {
    try (Stream<Path> files = Files.list(GPU_PLUGIN_BUILT)) {
      return files.filter(f -> f.getFileName().toString().matches("flink-external-resource-gpu-.*\\.jar"))
          .findFirst().orElseThrow(() -> new AssertionError("no plugin jar in " + GPU_PLUGIN_BUILT));
    }
  }

  private static List<Path> yamlFiles() {
    try (Stream<Path> files = Files.walk(K8S)) {
      return files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String pomProperty(String name) throws IOException {
    Matcher matcher = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(Files.readString(ROOT.resolve("pom.xml")));
    assertThat(matcher.find()).as(name + " in pom.xml").isTrue();
    return matcher.group(1);
  }

  private static Optional<String> kubectl() {
    String path = System.getenv("PATH");
    return path == null ? Optional.empty() : Stream.of(path.split(java.io.File.pathSeparator))
        .map(dir -> Path.of(dir, "kubectl")).filter(Files::isExecutable).map(Path::toString).findFirst();
  }

  private static Path repositoryRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("k8s")) && Files.isRegularFile(dir.resolve("Dockerfile"))) {
        return dir;
      }
    }
    throw new IllegalStateException("No k8s/ and Dockerfile above " + Path.of("").toAbsolutePath());
  }
}
