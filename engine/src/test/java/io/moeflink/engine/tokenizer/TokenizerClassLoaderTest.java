package io.moeflink.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.ref.WeakReference;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a Flink session cluster needs for a job to be resubmitted: once the job is gone, nothing of
 * the tokenizer keeps the job's class loader alive. The tokenizer's classes (and Jackson, Jinjava)
 * are loaded by a fresh child-first loader over the application loader, with {@code java.} and
 * logging parent-first, as Flink's user-code loader does, and the loader is the thread's context
 * loader while the tokenizer encodes, decodes and renders a chat template, as on a Flink task
 * thread. Then the loader is dropped and must be collected, and no thread may be left behind.
 *
 * <p>Loading, encoding and decoding run on the test's own thread, which lives on: a thread-local
 * left by the tokenizer (Jackson's default buffer pool, say) fails the test. The chat template
 * renders on a thread that ends, as a Flink task thread ends with its task: Jinjava writes values
 * through Jackson's default pool, which leaves a softly referenced buffer in a thread-local of the
 * rendering thread.
 */
class TokenizerClassLoaderTest {

  @TempDir Path modelDir;

  @Test
  void leavesItsClassLoaderCollectableAndNoThreadBehind() throws Exception {
    BundledTokenizer.writeTo(modelDir);
    // The TaskManager's own logging context exists before any job's code logs (log4j then finds it
    // through the job loader's parent instead of creating one per job loader).
    org.slf4j.LoggerFactory.getLogger(TokenizerClassLoaderTest.class).info("before the job");
    Set<Long> threadsBefore = liveThreadIds();

    WeakReference<ClassLoader> loader = useTokenizerInFreshLoader(modelDir);

    for (int i = 0; i < 50 && loader.get() != null; i++) {
      System.gc();
      Thread.sleep(100);
    }
    assertThat(loader.get()).as("the job's class loader after the tokenizer was dropped").isNull();
    List<String> newThreads = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !threadsBefore.contains(t.getId()))
        .map(Thread::getName)
        .collect(Collectors.toList());
    assertThat(newThreads).as("threads started by the tokenizer").isEmpty();
  }

  /** Everything that touches the child loader stays in this frame, so that nothing on the stack holds it. */
  private static WeakReference<ClassLoader> useTokenizerInFreshLoader(Path modelDir) throws Exception {
    Thread thread = Thread.currentThread();
    ClassLoader context = thread.getContextClassLoader();
    try (URLClassLoader child = new ChildFirst(classPathWithoutLogging(), TokenizerClassLoaderTest.class.getClassLoader())) {
      thread.setContextClassLoader(child); // as a Flink task thread runs user code
      Class<?> tokenizerClass = child.loadClass(Tokenizer.class.getName());
      assertThat(tokenizerClass.getClassLoader()).isSameAs(child);
      Object tokenizer = tokenizerClass.getMethod("load", Path.class).invoke(null, modelDir);
      int[] ids = (int[]) tokenizerClass.getMethod("encode", String.class).invoke(tokenizer, "Hello world, 你好");
      assertThat(ids).startsWith(19923, 2058);
      assertThat(tokenizerClass.getMethod("decode", int[].class).invoke(tokenizer, (Object) ids)).isEqualTo("Hello world, 你好");
      Object message = child.loadClass(ChatMessage.class.getName())
          .getConstructor(String.class, String.class).newInstance("user", "Hi");
      Method render = tokenizerClass.getMethod("applyChatTemplate", List.class, boolean.class);
      int[][] prompt = new int[1][];
      Thread task = new Thread(() -> {
        try {
          prompt[0] = (int[]) render.invoke(tokenizer, List.of(message), true);
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException(e);
        }
      }, "task");
      task.setContextClassLoader(child);
      task.start();
      task.join();
      assertThat(prompt[0]).isNotEmpty();
      return new WeakReference<>(child);
    } finally {
      thread.setContextClassLoader(context);
    }
  }

  /** Flink's {@code ChildFirstClassLoader}, reduced to its default parent-first patterns that matter here. */
  private static final class ChildFirst extends URLClassLoader {
    private static final String[] PARENT_FIRST = {"java.", "javax.", "jdk.", "sun.", "org.slf4j.", "org.apache.logging.", "org.apache.log4j."};

    ChildFirst(URL[] urls, ClassLoader parent) {
      super(urls, parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        for (String prefix : PARENT_FIRST) {
          if (name.startsWith(prefix)) {
            return super.loadClass(name, resolve);
          }
        }
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          try {
            c = findClass(name);
          } catch (ClassNotFoundException notHere) {
            return super.loadClass(name, resolve);
          }
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }
  }

  private static URL[] classPathWithoutLogging() throws Exception {
    List<URL> urls = new ArrayList<>();
    // Surefire starts tests from a manifest-only jar; the real class path is in this property.
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    for (String entry : classPath.split(File.pathSeparator)) {
      String name = new File(entry).getName();
      if (!name.contains("slf4j") && !name.contains("log4j")) {
        urls.add(new File(entry).toURI().toURL());
      }
    }
    return urls.toArray(URL[]::new);
  }

  private static Set<Long> liveThreadIds() {
    return Thread.getAllStackTraces().keySet().stream().map(Thread::getId).collect(Collectors.toSet());
  }
}
