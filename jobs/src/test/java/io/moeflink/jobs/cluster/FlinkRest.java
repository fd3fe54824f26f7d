package io.moeflink.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The JobManager's REST API, as far as the cluster tests read it: jobs and their state, where
 * each subtask runs, checkpoints, restarts, TaskManagers. Paths and fields as documented in
 * Flink's REST API reference.
 */
public final class FlinkRest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI base;

  FlinkRest(URI base) {
    this.base = base;
  }

  /** {@code http://host:port}. */
  public URI address() {
    return base;
  }

  /** GET {@code path}; fails on a status other than 200. */
  public JsonNode get(String path) {
    HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve(path)).GET());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET " + path + " answered " + response.statusCode() + ": " + response.body());
    }
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new IllegalStateException("GET " + path + " answered no JSON: " + response.body(), e);
    }
  }

  /** True once the REST endpoint answers. */
  public boolean isUp() {
    try {
      return send(HttpRequest.newBuilder(base.resolve("/overview")).GET()).statusCode() == 200;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /** Ids of the TaskManagers registered with the resource manager. */
  public List<String> taskManagerIds() {
    List<String> ids = new ArrayList<>();
    get("/taskmanagers").path("taskmanagers").forEach(tm -> ids.add(tm.path("id").asText()));
    return ids;
  }

  /** The job's state: CREATED, RUNNING, RESTARTING, FINISHED, CANCELED, FAILED, ... */
  public String jobState(String jobId) {
    return get("/jobs/" + jobId).path("state").asText();
  }

  /** True when the job runs and every subtask of every vertex is RUNNING (or already FINISHED). */
  public boolean isFullyRunning(String jobId) {
    JsonNode job = get("/jobs/" + jobId);
    if (!"RUNNING".equals(job.path("state").asText())) {
      return false;
    }
    for (JsonNode vertex : job.path("vertices")) {
      for (JsonNode subtask : get("/jobs/" + jobId + "/vertices/" + vertex.path("id").asText()).path("subtasks")) {
        String state = subtask.path("status").asText();
        if (!state.equals("RUNNING") && !state.equals("FINISHED")) {
          return false;
        }
      }
    }
    return true;
  }

  /** For each vertex (by name), the TaskManager id of each subtask, in subtask order. */
  public Map<String, List<String>> subtaskTaskManagers(String jobId) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
      List<String> tms = new ArrayList<>();
      for (JsonNode subtask : get("/jobs/" + jobId + "/vertices/" + vertex.path("id").asText()).path("subtasks")) {
        tms.add(subtask.path("taskmanager-id").asText());
      }
      out.put(vertex.path("name").asText(), tms);
    }
    return out;
  }

  /** Completed checkpoints of the job so far. */
  public long completedCheckpoints(String jobId) {
    return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
  }

  /** Where the latest completed checkpoint of the job is stored, if there is one. */
  public Optional<String> latestCheckpointPath(String jobId) {
    JsonNode latest = get("/jobs/" + jobId + "/checkpoints").path("latest").path("completed");
    return latest.isMissingNode() || latest.isNull() ? Optional.empty() : Optional.of(latest.path("external_path").asText());
  }

  /** How often the job restarted (Flink's {@code numRestarts} job metric). */
  public long restarts(String jobId) {
    for (JsonNode metric : get("/jobs/" + jobId + "/metrics?get=numRestarts")) {
      return Long.parseLong(metric.path("value").asText());
    }
    return 0;
  }

  /** Root causes of the job's failures so far, newest first: exception name and message. */
  public List<String> failures(String jobId) {
    List<String> out = new ArrayList<>();
    get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries")
        .forEach(e -> out.add(e.path("exceptionName").asText() + ": " + firstLine(e.path("stacktrace").asText())));
    return out;
  }

  /** Cancels the job (without a savepoint) and waits until it is CANCELED. */
  public void cancel(String jobId, Duration timeout) {
    HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve("/jobs/" + jobId + "?mode=cancel"))
        .method("PATCH", HttpRequest.BodyPublishers.noBody()));
    if (response.statusCode() != 202) {
      throw new IllegalStateException("Cancelling " + jobId + " answered " + response.statusCode() + ": " + response.body());
    }
    awaitState(jobId, Set.of("CANCELED"), timeout);
  }

  /** Waits until the job is in one of {@code states}; fails early when it reaches another terminal state. */
  public void awaitState(String jobId, Set<String> states, Duration timeout) {
    String[] last = {""};
    await("job " + jobId + " in " + states, timeout, () -> {
      last[0] = jobState(jobId);
      if (!states.contains(last[0]) && Set.of("FAILED", "CANCELED", "FINISHED").contains(last[0])) {
        throw new IllegalStateException("Job " + jobId + " is " + last[0] + ", expected " + states + "; failures: "
            + failures(jobId));
      }
      return states.contains(last[0]);
    });
  }

  /** Polls {@code condition} every 200 ms until it holds; fails after {@code timeout}. */
  public static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Timed out after " + timeout + " waiting for " + what);
      }
      ClusterProcess.sleep(Duration.ofMillis(200));
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException("REST call to " + base + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted during a REST call to " + base, e);
    }
  }

  private static String firstLine(String text) {
    int nl = text.indexOf('\n');
    return nl < 0 ? text : text.substring(0, nl);
  }
}
