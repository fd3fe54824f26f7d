package io.moeflink.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face checkpoint directory: one {@code model.safetensors}, or a {@code
 * model.safetensors.index.json} whose {@code weight_map} names the shard of every tensor. Tensors
 * are resolved through the index, so a weight and its {@code weight_scale_inv} may sit in
 * different shards (trap 10).
 */
public final class Checkpoint implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LAYER = Pattern.compile("^model\\.layers\\.(\\d+)\\.");

  private final Path dir;
  private final Map<String, SafetensorsFile> tensorFiles;
  private final List<SafetensorsFile> files;

  private Checkpoint(Path dir, Map<String, SafetensorsFile> tensorFiles, List<SafetensorsFile> files) {
    this.dir = dir;
    this.tensorFiles = tensorFiles;
    this.files = files;
  }

  /** Opens every shard of a model directory and validates their headers. */
  public static Checkpoint open(Path dir) throws IOException {
    Path index = dir.resolve("model.safetensors.index.json");
    Path single = dir.resolve("model.safetensors");
    Map<String, String> weightMap = new LinkedHashMap<>();
    if (Files.isRegularFile(index)) {
      JsonNode root;
      try {
        root = JSON.readTree(index.toFile());
      } catch (IOException e) {
        throw new CheckpointException(index.getFileName() + " is not valid JSON: " + e.getMessage(), e);
      }
      JsonNode map = root.path("weight_map");
      if (!map.isObject()) {
        throw new CheckpointException(index.getFileName() + " has no weight_map object");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        weightMap.put(e.getKey(), e.getValue().asText());
      }
    } else if (!Files.isRegularFile(single)) {
      throw new CheckpointException(
          "No model.safetensors or model.safetensors.index.json in " + dir + ": expected a Hugging Face checkpoint");
    }
    Map<String, SafetensorsFile> byFileName = new LinkedHashMap<>();
    try {
      if (weightMap.isEmpty()) {
        SafetensorsFile f = SafetensorsFile.open(single);
        byFileName.put(f.fileName(), f);
        f.tensors().keySet().forEach(name -> weightMap.put(name, f.fileName()));
      } else {
        for (String file : new TreeSet<>(weightMap.values())) {
          Path p = dir.resolve(file).normalize();
          if (!p.startsWith(dir.normalize()) || !Files.isRegularFile(p)) {
            throw new CheckpointException("model.safetensors.index.json names " + file + ", which is not a file in " + dir);
          }
          byFileName.put(file, SafetensorsFile.open(p));
        }
      }
      Map<String, SafetensorsFile> tensorFiles = new LinkedHashMap<>();
      for (Map.Entry<String, String> e : weightMap.entrySet()) {
        SafetensorsFile f = byFileName.get(e.getValue());
        if (!f.tensors().containsKey(e.getKey())) {
          throw new CheckpointException(
              "model.safetensors.index.json maps " + e.getKey() + " to " + e.getValue() + ", but that file has no such tensor");
        }
        tensorFiles.put(e.getKey(), f);
      }
      return new Checkpoint(dir, Collections.unmodifiableMap(tensorFiles), List.copyOf(byFileName.values()));
    } catch (IOException | RuntimeException e) {
      for (SafetensorsFile f : byFileName.values()) {
        try {
          f.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /** Every tensor name, excluding layers at or past {@code numLayers} (the MTP module). */
  public Set<String> tensorNames(int numLayers) {
    Set<String> names = new TreeSet<>();
    for (String name : tensorFiles.keySet()) {
      if (layerOf(name) < numLayers) {
        names.add(name);
      }
    }
    return names;
  }

  /** The layer index of a {@code model.layers.N.*} name, or -1. */
  static int layerOf(String name) {
    Matcher m = LAYER.matcher(name);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  public boolean contains(String name) {
    return tensorFiles.containsKey(name);
  }

  /** A tensor, checked against the shape the model expects. */
  public Tensor tensor(String name, long... expectedShape) {
    Tensor t = tensor(name);
    if (!Arrays.equals(t.shape(), expectedShape)) {
      throw new CheckpointException(
          "Tensor " + name + " in " + t.file() + " has shape " + t.info().shapeText() + ", expected "
              + Arrays.toString(expectedShape));
    }
    return t;
  }

  /** A tensor by name, or an exception naming the directory. */
  public Tensor tensor(String name) {
    SafetensorsFile f = tensorFiles.get(name);
    if (f == null) {
      throw new CheckpointException("Tensor " + name + " is missing from the checkpoint in " + dir);
    }
    return new Tensor(f.tensors().get(name), f.fileName(), f.data(name), f);
  }

  /** Checks the tensor names against the expected set: nothing missing, nothing unexpected. */
  public void requireExactly(Set<String> expected, int numLayers) {
    Set<String> present = tensorNames(numLayers);
    List<String> missing = new ArrayList<>();
    for (String name : expected) {
      if (!present.contains(name)) {
        missing.add(name);
      }
    }
    List<String> unexpected = new ArrayList<>();
    for (String name : present) {
      if (!expected.contains(name)) {
        unexpected.add(name);
      }
    }
    if (!missing.isEmpty()) {
      throw new CheckpointException(
          missing.size() + " tensor(s) missing from the checkpoint in " + dir + ": " + preview(missing));
    }
    if (!unexpected.isEmpty()) {
      throw new CheckpointException(
          unexpected.size() + " unexpected tensor(s) in the checkpoint in " + dir
              + " (does config.json match the weights?): " + preview(unexpected));
    }
  }

  /** Fails naming what is missing when any of {@code names} is not in the checkpoint. */
  public void requirePresent(Set<String> names, String what) {
    List<String> missing = names.stream().filter(n -> !contains(n)).toList();
    if (!missing.isEmpty()) {
      throw new CheckpointException(
          missing.size() + " tensor(s) of " + what + " missing from the checkpoint in " + dir + ": " + preview(missing));
    }
  }

  private static String preview(List<String> names) {
    return names.size() <= 8 ? names.toString() : names.subList(0, 8) + " and " + (names.size() - 8) + " more";
  }

  public Path dir() {
    return dir;
  }

  @Override
  public void close() {
    for (SafetensorsFile f : files) {
      try {
        f.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
