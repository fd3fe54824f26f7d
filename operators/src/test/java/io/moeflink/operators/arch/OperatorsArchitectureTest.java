package io.moeflink.operators.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** Operators use the engine's public seams only, and integration tests run on a real MiniCluster. */
@AnalyzeClasses(packages = "io.moeflink.operators")
class OperatorsArchitectureTest {

  @ArchTest
  static final ArchRule operatorsDoNotReachKernelInternals =
      noClasses().that().resideInAPackage("io.moeflink.operators..")
          .and().haveSimpleNameNotEndingWith("Test")
          .should().dependOnClassesThat(
              com.tngtech.archunit.base.DescribedPredicate.describe("kernel internals",
                  (JavaClass c) -> c.getPackageName().startsWith("io.moeflink.engine.kernel")
                      && !c.getSimpleName().equals("KernelBackend") && !c.getSimpleName().equals("Backends")))
          .because("operators drive the model through ForwardPass, ExpertShard and KernelBackend, never kernels directly");

  @ArchTest
  static final ArchRule everyItCaseRegistersAMiniCluster =
      classes().that().haveSimpleNameEndingWith("ITCase").should(new ArchCondition<>("register a MiniClusterExtension") {
        @Override
        public void check(JavaClass item, ConditionEvents events) {
          boolean has = item.getAllFields().stream().anyMatch(f -> f.getRawType().isAssignableTo(MiniClusterExtension.class));
          if (!has) {
            events.add(SimpleConditionEvent.violated(item, item.getName() + " has no MiniClusterExtension field"));
          }
        }
      });
}
