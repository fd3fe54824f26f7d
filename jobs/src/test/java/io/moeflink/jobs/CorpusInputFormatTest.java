package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.connectors.files.CorpusFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusInputFormatTest {

  @TempDir Path tmp;

  @Test
  void aDirectoryOfAvroFilesIsReadAsAvro() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("avro"));
    Files.write(dir.resolve("part-0.avro"), new byte[] {1});
    Files.write(dir.resolve("part-1.avro"), new byte[] {1});
    Files.write(dir.resolve(".part-2.avro.crc"), new byte[] {1}); // hidden files do not count
    assertThat(CorpusJob.inputFormat(dir.toString())).isEqualTo(CorpusFormat.AVRO);
    assertThat(CorpusJob.inputFormat(dir + "/*.avro")).isEqualTo(CorpusFormat.AVRO);
    assertThat(CorpusJob.inputFormat(dir.resolve("part-0.avro").toString())).isEqualTo(CorpusFormat.AVRO);
  }

  @Test
  void jsonlDirectoriesAndRemotePathsAreJsonl() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("jsonl"));
    Files.writeString(dir.resolve("a.jsonl"), "{}\n");
    assertThat(CorpusJob.inputFormat(dir.toString())).isEqualTo(CorpusFormat.JSONL);
    assertThat(CorpusJob.inputFormat("s3://bucket/corpus/")).isEqualTo(CorpusFormat.JSONL);
    assertThat(CorpusJob.inputFormat(tmp.resolve("missing.jsonl").toString())).isEqualTo(CorpusFormat.JSONL);
  }

  @Test
  void aDirectoryMixingAvroAndJsonlIsAMistake() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("mixed"));
    Files.writeString(dir.resolve("a.jsonl"), "{}\n");
    Files.write(dir.resolve("b.avro"), new byte[] {1});
    assertThatThrownBy(() -> CorpusJob.inputFormat(dir.toString()))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("holds both .avro and other files");
  }
}
