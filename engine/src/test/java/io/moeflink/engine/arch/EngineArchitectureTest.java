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
              "io.moeflink.operators..", "io.moeflink.connectors..", "io.moeflink.jobs..", "io.moeflink.cli..");
}
