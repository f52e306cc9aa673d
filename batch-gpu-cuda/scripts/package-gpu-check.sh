#!/usr/bin/env bash
# Builds what the GPU check needs on a machine that has no network, no Maven and perhaps no JDK:
# a jlink'ed Java 25 runtime with only the modules the engine uses, the module's jars with their
# runtime dependencies, its test classes and batch-core's, the launcher's jar and dependencies (for
# bench and run-batch), JUnit's console launcher, and the test data the gpu tests read (stories260K
# and its llama.cpp reference, from ../shared, which does not travel), all in one
# batch-gpu-cuda/target/gpu-check.tar.xz (ignored by git; carry it with the working tree). What
# travels with the tree must stay under 64 MiB, which the script checks.
#
#   bash batch-gpu-cuda/scripts/package-gpu-check.sh        # from the repository root, with network
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"
DIR=batch-gpu-cuda/target/gpu-check
ARCHIVE=batch-gpu-cuda/target/gpu-check.tar.xz
LIMIT_MIB=64
# java.desktop for java.beans (Jackson's bean introspection), java.sql/naming/management
# for H2 and HikariCP, jdk.unsupported for JavaCPP, the Vector API for the CPU engine the tests compare
# with, jdk.zipfs for the JUnit launcher to scan the test jar. jdeps lists more (H2's compiler and
# attach support, Javassist's agent): optional paths, not taken.
MODULES=java.base,java.desktop,java.logging,java.management,java.naming,java.scripting,java.sql,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.zipfs

rm -rf "$DIR" "$ARCHIVE"
# the module's jar, its test jar, the launcher's jar and (profile gpu-check) every dependency into $DIR/lib
mvn -B -q -Pgpu-check -pl batch-gpu-cuda,batch-http-adapter -am package -DskipTests
cp batch-gpu-cuda/target/batch-gpu-cuda-*.jar "$DIR/lib/"
cp batch-http-adapter/target/batch-http-adapter-*.jar "$DIR/lib/"
# the check runs on H2 and loads four of the CUDA preset's 27 JNI libraries
rm -f "$DIR"/lib/postgresql-*.jar
# the test data: the gpu tests read it through -Dbatchllm.shared.dir
SHARED=${BATCHLLM_SHARED_DIR:-../shared}
mkdir -p "$DIR/shared/models" "$DIR/shared/reference"
cp "$SHARED/models/stories260K.gguf" "$DIR/shared/models/"
cp "$SHARED/reference/stories260K-greedy.jsonl" "$DIR/shared/reference/"
CUDA_JNI=$(ls "$DIR"/lib/cuda-*-linux-x86_64.jar)
(mkdir -p "$DIR/cuda-jni" && cd "$DIR/cuda-jni" && jar xf "$OLDPWD/$CUDA_JNI" \
    org/bytedeco/cuda/linux-x86_64/libjnicudart.so org/bytedeco/cuda/linux-x86_64/libjnicublas.so \
    org/bytedeco/cuda/linux-x86_64/libjninvrtc.so org/bytedeco/cuda/linux-x86_64/libjninvml.so META-INF/MANIFEST.MF \
    && rm "$OLDPWD/$CUDA_JNI" && jar --create --file "$OLDPWD/$CUDA_JNI" --manifest META-INF/MANIFEST.MF org)
rm -rf "$DIR/cuda-jni"
JUNIT_VERSION=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT_VERSION" \
    -DoutputDirectory="$PWD/$DIR"
mv "$DIR"/junit-platform-console-standalone-*.jar "$DIR/junit-console.jar"

# uncompressed modules: xz below packs them far better than jlink's zip
jlink --add-modules "$MODULES" --strip-native-debug-symbols=objcopy=/usr/bin/objcopy --strip-java-debug-attributes \
    --no-header-files --no-man-pages --compress=zip-0 --output "$DIR/jre" 2>&1 | grep -v "incubator modules" || true
"$DIR/jre/bin/java" --add-modules jdk.incubator.vector -version 2>&1 | grep -q '"25' \
    || { echo "the linked runtime does not start" >&2; exit 1; }

git rev-parse HEAD > "$DIR/COMMIT" 2>/dev/null || echo unknown > "$DIR/COMMIT"
if ! git diff --quiet HEAD 2>/dev/null; then
    echo "(with uncommitted changes)" >> "$DIR/COMMIT"
fi
tar -C batch-gpu-cuda/target -cJf "$ARCHIVE" gpu-check
SIZE=$(stat -c %s "$ARCHIVE")
echo "gpu-check package: $ARCHIVE, $((SIZE / 1048576)) MiB (limit $LIMIT_MIB MiB; unpacked $(du -sh "$DIR" | cut -f1))"
if [ "$SIZE" -gt $((LIMIT_MIB * 1048576)) ]; then
    echo "the package is over $LIMIT_MIB MiB: it cannot travel with the working tree" >&2
    exit 1
fi
