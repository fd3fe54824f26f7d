# syntax=docker/dockerfile:1
#
# The moe-flink job image: the official Flink image, the shaded job jar in usrlib/ (application mode
# on the Flink Kubernetes Operator), and the moe-flink CLI for one-off pods (make-model, publish,
# consume). Two targets:
#   cpu  the engine's Vector API / scalar kernels
#   gpu  adds Flink's GPU external-resource plugin, so TaskManagers learn their GPU index
#
# Build from the repository root after `mvn -B -DskipTests package`, which writes
# jobs/target/moe-flink-job.jar and jobs/target/flink-plugins/external-resource-gpu/:
#   docker build --target cpu -t REGISTRY/moe-flink:0.1.0-cpu .
#   docker build --target gpu -t REGISTRY/moe-flink:0.1.0-gpu .
# k8s/README.md ("Run on Kubernetes") goes on from there.

# Flink 2.3.0 on Java 21, the newest Java the Flink images ship (java11, java17, java21). The jars are
# built for release 17 (pom.xml: maven.compiler.release) and run, with the same bits, on 17 to 25.
ARG FLINK_IMAGE=flink:2.3.0-scala_2.12-java21

FROM ${FLINK_IMAGE} AS cpu
# The jarURI of every FlinkDeployment: local:///opt/flink/usrlib/moe-flink-job.jar
COPY --chown=flink:flink jobs/target/moe-flink-job.jar /opt/flink/usrlib/moe-flink-job.jar
COPY --chmod=0755 k8s/image/moe-flink /usr/local/bin/moe-flink

FROM cpu AS gpu
# The plugin jar and the discovery scripts it ships, in the directory Flink's GPU driver looks in by
# default (plugins/external-resource-gpu/nvidia-gpu-discovery.sh); the gpu overlay names the script
# explicitly. Same directory name as the Flink distribution's own copy, so a base image that already
# has one gets it replaced rather than a second plugin with the same driver factory.
COPY --chmod=0755 jobs/target/flink-plugins/external-resource-gpu/ /opt/flink/plugins/external-resource-gpu/
# The discovery script calls nvidia-smi, which the NVIDIA container runtime mounts only with the
# "utility" capability; "compute" brings libcuda.so.1 for JCuda. NVIDIA_VISIBLE_DEVICES is left
# to the device plugin, which sets it to the GPUs the pod was given.
ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility
