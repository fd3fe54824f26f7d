package io.moeflink.cli;

import io.moeflink.jobs.UsageException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * How the CLI answers a failure: one line on stderr, {@code moe-flink COMMAND: what is wrong and
 * what to do}, and no stack trace unless {@code --verbose} is given. A mistake of the user's (an
 * option picocli rejects, a {@link UsageException}, a missing or unreadable file, an invalid value)
 * exits with {@value #USAGE}; anything else (a job that failed while running, a broker that went
 * away) exits with {@value #FAILURE}.
 */
final class CliErrors implements IParameterExceptionHandler, IExecutionExceptionHandler {

  /** Exit code of a user mistake (picocli's, and the shell's, convention for usage errors). */
  static final int USAGE = 2;
  /** Exit code of any other failure. */
  static final int FAILURE = 1;

  static final String VERBOSE = "--verbose";

  @Override
  public int handleParseException(ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    PrintWriter err = command.getErr();
    err.println(prefix(command) + oneLine(e.getMessage()) + " (" + helpOf(command) + " lists the options)");
    if (verbose(args)) {
      e.printStackTrace(err);
    }
    err.flush();
    return USAGE;
  }

  @Override
  public int handleExecutionException(Exception e, CommandLine command, ParseResult parsed) {
    Throwable cause = unwrap(e);
    PrintWriter err = command.getErr();
    boolean usage = isUsageMistake(cause);
    String message = describe(cause);
    err.println(prefix(command) + (usage ? message : "failed: " + message + " (" + VERBOSE + " shows the stack trace)"));
    if (verbose(parsed.originalArgs().toArray(String[]::new))) {
      e.printStackTrace(err);
    }
    err.flush();
    return usage ? USAGE : FAILURE;
  }

  /** Whether the failure is the user's to fix by changing the command or its files. */
  static boolean isUsageMistake(Throwable t) {
    return t instanceof UsageException
        || t instanceof ParameterException
        || t instanceof IllegalArgumentException
        || t instanceof IOException;
  }

  /** One line: the cause's own message, or what a file system error means. */
  static String describe(Throwable t) {
    if (t instanceof AccessDeniedException denied) {
      return denied.getFile() + ": permission denied; check that this user may read (or write) it";
    }
    if (t instanceof NoSuchFileException missing) {
      return missing.getFile() + ": no such file or directory"
          + (missing.getReason() == null ? "" : " (" + oneLine(missing.getReason()) + ")");
    }
    if (t instanceof FileNotFoundException || t instanceof FileSystemException) {
      return oneLine(t.getMessage());
    }
    String message = t.getMessage();
    if (message == null || message.isBlank()) {
      return t.getClass().getSimpleName();
    }
    return t instanceof UsageException || t instanceof IllegalArgumentException || t instanceof IOException
        ? oneLine(message)
        : t.getClass().getSimpleName() + ": " + oneLine(message);
  }

  /** The exception that says what went wrong, beneath reflection, futures and job wrappers. */
  static Throwable unwrap(Throwable t) {
    Throwable current = t;
    while (current.getCause() != null && current.getCause() != current
        && (current instanceof InvocationTargetException
            || current instanceof ExecutionException
            || current instanceof CompletionException
            || current instanceof UncheckedIOException
            || current instanceof CommandLine.ExecutionException
            || current.getClass().getName().startsWith("org.apache.flink.runtime.")
            || (current.getClass() == RuntimeException.class && current.getCause() != null))) {
      current = current.getCause();
    }
    return current;
  }

  static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
  }

  private static String prefix(CommandLine command) {
    return command.getCommandSpec().qualifiedName() + ": ";
  }

  private static String helpOf(CommandLine command) {
    return command.getCommandSpec().qualifiedName() + " --help";
  }

  private static boolean verbose(String[] args) {
    return args != null && Arrays.asList(args).contains(VERBOSE);
  }
}
