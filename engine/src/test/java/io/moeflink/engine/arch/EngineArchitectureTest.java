package io.moeflink.engine.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The engine stays free of Flink and Kafka: it must run (and be tested) without them. */
@AnalyzeClasses(packages = "io.moeflink.engine", importOptions = ImportOption.DoNotIncludeTests.class)
class EngineArchitectureTest {

  @ArchTest
  static final ArchRule engineDoesNotUseFlink =
      noClasses().that().resideInAPackage("io.moeflink.engine..")
          .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "org.apache.kafka..")
          .because("engine is the model alone; Flink and Kafka belong to operators, connectors and jobs");

  @ArchTest
  static final ArchRule engineDoesNotReachIntoOtherModules =
      noClasses().that().resideInAPackage("io.moeflink.engine..")
          .should().dependOnClassesThat().resideInAnyPackage(
              "io.moeflink.operators..", "io.moeflink.connectors..", "io.moeflink.jobs..", "io.moeflink.cli..",
              "io.moeflink.workbench..")
          .because("tools (model generator, benchmarks) live in workbench, which depends on the engine, not the reverse");

  @ArchTest
  static final ArchRule theSeamNeedsNothingOfTheDenseModel =
      noClasses().that().resideInAPackage("io.moeflink.engine.moe..")
          .should().dependOnClassesThat().resideInAnyPackage("io.moeflink.engine.model..", "io.moeflink.engine.generate..")
          .because("engine.moe is the expert-parallel cut: what crosses it (batches, results, placement) and the "
              + "shard side (routed experts); an expert shard runs without the dense model");

  @ArchTest
  static final ArchRule engineKnowsNothingOfTheMachinesResources =
      noClasses().that().resideInAPackage("io.moeflink.engine..")
          .should().callMethod(System.class, "getenv", String.class)
          .orShould().callMethod(System.class, "getenv")
          .because("which GPU a subtask uses is Flink's and the operators' decision (external resources, "
              + "CUDA_VISIBLE_DEVICES); the engine takes a device ordinal");

  @ArchTest
  static final ArchRule modelMathDoesNotReachKernelImplementations =
      noClasses().that().resideInAnyPackage("io.moeflink.engine.model..", "io.moeflink.engine.moe..",
              "io.moeflink.engine.generate..")
          .should().dependOnClassesThat().haveSimpleNameEndingWith("Tiles")
          .orShould().dependOnClassesThat().resideInAPackage("io.moeflink.engine.kernel.cuda..")
          .because("the model runs block operations of a KernelBackend; which backend computes them is configuration");
}
