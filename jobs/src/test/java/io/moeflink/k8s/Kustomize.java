package io.moeflink.k8s;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The part of kustomize that {@code k8s/} uses, so that the tests can render the overlays where
 * {@code kubectl} is not installed: {@code resources} (files and directories), {@code namespace},
 * {@code labels} (metadata only), and {@code patches} with an optional kind/name target, either a
 * JSON 6902 patch (add, replace, remove) or a strategic-merge patch on a custom resource. For custom
 * resources kustomize knows no merge keys, so a strategic merge is a JSON merge patch (RFC 7386):
 * maps merge, lists are replaced, null deletes. Anything else in a kustomization fails loudly
 * rather than rendering something kubectl would not; where kubectl is present, the tests compare
 * the two renderings.
 */
final class Kustomize {

  static final YAMLMapper YAML = new YAMLMapper();

  /** Kinds that are custom resources: a strategic merge on them is a JSON merge patch. */
  private static final Set<String> CUSTOM_KINDS = Set.of("FlinkDeployment", "KafkaTopic");

  /** Kinds without a namespace, which the namespace transformer leaves alone. */
  private static final Set<String> CLUSTER_KINDS =
      Set.of("Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume");

  private static final Set<String> KUSTOMIZATION_FIELDS =
      Set.of("apiVersion", "kind", "namespace", "labels", "resources", "patches");

  private Kustomize() {}

  /** The resources that {@code kubectl kustomize dir} would print, in file order. */
  static List<ObjectNode> render(Path dir) {
    Path file = dir.resolve("kustomization.yaml");
    ObjectNode kustomization = single(file);
    kustomization.fieldNames().forEachRemaining(field -> {
      if (!KUSTOMIZATION_FIELDS.contains(field)) {
        throw new UnsupportedOperationException(
            file + ": field '" + field + "' is not implemented by this renderer; supported: " + KUSTOMIZATION_FIELDS);
      }
    });
    List<ObjectNode> resources = new ArrayList<>();
    for (JsonNode entry : kustomization.path("resources")) {
      Path path = dir.resolve(entry.asText()).normalize();
      resources.addAll(Files.isDirectory(path) ? render(path) : readAll(path));
    }
    for (JsonNode patch : kustomization.path("patches")) {
      applyPatch(dir, patch, resources);
    }
    if (kustomization.hasNonNull("namespace")) {
      String namespace = kustomization.get("namespace").asText();
      resources.stream()
          .filter(resource -> !CLUSTER_KINDS.contains(resource.path("kind").asText()))
          .forEach(resource -> metadata(resource).put("namespace", namespace));
    }
    for (JsonNode label : kustomization.path("labels")) {
      if (label.path("includeSelectors").asBoolean() || label.path("includeTemplates").asBoolean()) {
        throw new UnsupportedOperationException(file + ": labels on selectors or templates are not implemented");
      }
      for (ObjectNode resource : resources) {
        metadata(resource).withObjectProperty("labels").setAll((ObjectNode) label.get("pairs"));
      }
    }
    return resources;
  }

  /** Every YAML document in {@code file}; empty documents are skipped. */
  static List<ObjectNode> readAll(Path file) {
    List<ObjectNode> documents = new ArrayList<>();
    for (JsonNode document : readDocuments(file)) {
      if (!(document instanceof ObjectNode object)) {
        throw new IllegalArgumentException(file + ": a document is not a mapping: " + document);
      }
      documents.add(object);
    }
    return documents;
  }

  /** Every YAML document in {@code file} as a tree: mappings, or lists for JSON patches. */
  static List<JsonNode> readDocuments(Path file) {
    // Parsed document by document: MappingIterator would unwrap a top-level list into its items.
    try (JsonParser parser = YAML.createParser(file.toFile())) {
      List<JsonNode> documents = new ArrayList<>();
      while (parser.nextToken() != null) {
        JsonNode document = YAML.readTree(parser);
        if (document != null && !document.isNull() && !document.isMissingNode()) {
          documents.add(document);
        }
      }
      return documents;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  private static ObjectNode single(Path file) {
    List<ObjectNode> documents = readAll(file);
    if (documents.size() != 1) {
      throw new IllegalArgumentException(file + ": expected one document, found " + documents.size());
    }
    return documents.get(0);
  }

  private static void applyPatch(Path dir, JsonNode entry, List<ObjectNode> resources) {
    JsonNode patch;
    try {
      patch = entry.has("path")
          ? YAML.readTree(dir.resolve(entry.get("path").asText()).toFile())
          : YAML.readTree(entry.path("patch").asText());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read patch " + entry, e);
    }
    JsonNode target = entry.path("target");
    target.fieldNames().forEachRemaining(field -> {
      if (!field.equals("kind") && !field.equals("name")) {
        throw new UnsupportedOperationException("patch target field '" + field + "' is not implemented: " + entry);
      }
    });
    String kind = target.has("kind") ? target.get("kind").asText() : patch.path("kind").asText(null);
    String name = target.has("name") ? target.get("name").asText()
        : target.isMissingNode() ? patch.path("metadata").path("name").asText(null) : null;
    List<ObjectNode> matches = resources.stream()
        .filter(resource -> kind == null || kind.equals(resource.path("kind").asText()))
        .filter(resource -> name == null || name.equals(resource.path("metadata").path("name").asText()))
        .toList();
    if (matches.isEmpty()) {
      throw new IllegalArgumentException("patch matches no resource: " + entry);
    }
    for (ObjectNode resource : matches) {
      if (patch.isArray()) {
        applyJsonPatch((ArrayNode) patch, resource);
      } else {
        mergePatch(patch, resource);
      }
    }
  }

  /** A strategic merge on a custom resource; the patch's own name only identified the target. */
  private static void mergePatch(JsonNode patch, ObjectNode resource) {
    String kind = resource.path("kind").asText();
    if (!CUSTOM_KINDS.contains(kind)) {
      throw new UnsupportedOperationException(
          "strategic merge on built-in kind " + kind + " (merge keys) is not implemented; use a JSON patch");
    }
    ObjectNode body = patch.deepCopy();
    body.remove(List.of("apiVersion", "kind"));
    if (body.get("metadata") instanceof ObjectNode metadata) {
      metadata.remove("name");
      if (metadata.isEmpty()) {
        body.remove("metadata");
      }
    }
    merge(resource, body);
  }

  private static void merge(ObjectNode target, ObjectNode patch) {
    for (Map.Entry<String, JsonNode> field : patch.properties()) {
      JsonNode value = field.getValue();
      if (value.isNull()) {
        target.remove(field.getKey());
      } else if (value.isObject() && target.get(field.getKey()) instanceof ObjectNode existing) {
        merge(existing, (ObjectNode) value);
      } else {
        target.set(field.getKey(), value.deepCopy());
      }
    }
  }

  private static void applyJsonPatch(ArrayNode operations, ObjectNode resource) {
    for (JsonNode operation : operations) {
      String op = operation.path("op").asText();
      JsonPointer pointer = JsonPointer.compile(operation.path("path").asText());
      JsonNode parent = resource.at(pointer.head());
      String last = pointer.last().getMatchingProperty();
      if (parent.isMissingNode()) {
        throw new IllegalArgumentException("JSON patch path has no parent: " + operation);
      }
      switch (op) {
        case "add" -> add(parent, last, operation.get("value").deepCopy(), operation);
        case "replace" -> {
          remove(parent, last, operation);
          add(parent, last, operation.get("value").deepCopy(), operation);
        }
        case "remove" -> remove(parent, last, operation);
        default -> throw new UnsupportedOperationException("JSON patch op '" + op + "' is not implemented");
      }
    }
  }

  private static void add(JsonNode parent, String key, JsonNode value, JsonNode operation) {
    if (parent instanceof ArrayNode array) {
      if (key.equals("-")) {
        array.add(value);
      } else {
        array.insert(index(array, key, array.size(), operation), value);
      }
    } else {
      ((ObjectNode) parent).set(key, value);
    }
  }

  private static void remove(JsonNode parent, String key, JsonNode operation) {
    if (parent instanceof ArrayNode array) {
      array.remove(index(array, key, array.size() - 1, operation));
    } else if (((ObjectNode) parent).remove(key) == null) {
      throw new IllegalArgumentException("JSON patch removes a missing field: " + operation);
    }
  }

  private static int index(ArrayNode array, String key, int max, JsonNode operation) {
    int index = Integer.parseInt(key);
    if (index < 0 || index > max) {
      throw new IllegalArgumentException("JSON patch index " + index + " outside 0.." + max + ": " + operation);
    }
    return index;
  }

  private static ObjectNode metadata(ObjectNode resource) {
    return resource.withObjectProperty("metadata");
  }
}
