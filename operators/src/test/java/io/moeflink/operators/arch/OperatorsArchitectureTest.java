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
  /** What operators may use of the kernel packages: choosing, creating and probing a backend. */
  private static final java.util.Set<String> KERNEL_API =
      java.util.Set.of("KernelBackend", "Backends", "BackendKind", "CudaAvailability");

  @ArchTest
  static final ArchRule operatorsDoNotReachKernelInternals =
      noClasses().that().resideInAPackage("io.moeflink.operators..")
          .and().haveSimpleNameNotEndingWith("Test")
          .should().dependOnClassesThat(
              com.tngtech.archunit.base.DescribedPredicate.describe("kernel internals",
                  (JavaClass c) -> c.getPackageName().startsWith("io.moeflink.engine.kernel")
                      && !KERNEL_API.contains(c.getSimpleName())))
          .because("operators drive the model through ForwardPass, ExpertShard and KernelBackend, never kernels directly");

  @ArchTest
  static final ArchRule theShardSideNeedsOnlyTheSeam =
      noClasses().that().resideInAPackage("io.moeflink.operators.experts..")
          .should().dependOnClassesThat().resideInAnyPackage("io.moeflink.engine.model..", "io.moeflink.engine.generate..")
          .because("an expert shard holds routed experts only: it talks to the generation side through engine.moe");

  @ArchTest
  static final ArchRule mergingAndSplittingBatchesIsTheEnginesBusiness =
      noClasses().that().resideInAPackage("io.moeflink.operators..")
          .and().resideOutsideOfPackage("io.moeflink.operators.loop..")
          .should().callConstructor(io.moeflink.engine.moe.ExpertBatch.class, int.class, int.class, float[].class,
              int[].class, int[].class, int[].class)
          .because("MixtureOfExperts builds expert batches and ExpertShard computes several at once; operators only "
              + "carry them (the loop's serializers rebuild them from bytes)");

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
