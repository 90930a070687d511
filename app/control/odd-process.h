/* odd-process.h: starting, watching and stopping the stack's child processes
 *
 * Every child is started from an argv vector (never through a shell), in a new session so
 * that it outlives the program that started it, with stdin on /dev/null and stdout and
 * stderr appended to its log file.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* TRUE if @pid exists, is not a zombie and, when @comm is set, its command name (as in
 * /proc/<pid>/comm, at most 15 characters) is a prefix of @comm. The name check guards
 * against a pid reused by an unrelated process after a reboot. */
gboolean     odd_process_is_alive        (GPid                pid,
                                          const char         *comm);
/* The first number in @path, or 0 when the file is missing or holds no pid. */
GPid         odd_process_read_pid_file   (const char         *path);
gboolean     odd_process_write_pid_file  (const char         *path,
                                          GPid                pid,
                                          GError            **error);
/* Opens @path for appending, creating it (0644). Returns a file descriptor or -1. */
int          odd_process_open_log        (const char         *path,
                                          GError            **error);
/* Starts @argv detached (new session). @envp: the complete environment, or NULL to inherit.
 * @cwd: may be NULL. @log_file: stdout and stderr are appended there. */
GSubprocess *odd_process_spawn           (const char * const *argv,
                                          const char * const *envp,
                                          const char         *cwd,
                                          const char         *log_file,
                                          GError            **error);
/* Starts @argv like odd_process_spawn() and waits for it to exit successfully within
 * @timeout_ms. A failure quotes the end of @log_file. On cancellation the child is killed. */
gboolean     odd_process_run             (const char * const *argv,
                                          const char * const *envp,
                                          const char         *cwd,
                                          const char         *log_file,
                                          guint               timeout_ms,
                                          GCancellable       *cancellable,
                                          GError            **error);
/* SIGTERM, then up to @timeout_ms for it to exit, then SIGKILL and another second.
 * TRUE when the process is gone (also when it was gone already). */
gboolean     odd_process_terminate       (GPid                pid,
                                          const char         *comm,
                                          guint               timeout_ms,
                                          GError            **error);
/* Waits until @pid is gone; FALSE on timeout. */
gboolean     odd_process_wait_gone       (GPid                pid,
                                          const char         *comm,
                                          guint               timeout_ms);
/* The last @lines lines of @path ("" when it cannot be read). */
char        *odd_process_log_tail        (const char         *path,
                                          guint               lines);
/* Sleeps @ms, or less when @cancellable fires; FALSE (with @error set) when cancelled. */
gboolean     odd_process_sleep           (guint               ms,
                                          GCancellable       *cancellable,
                                          GError            **error);
/* Formats @argv for messages. */
char        *odd_process_argv_to_string  (const char * const *argv);

G_END_DECLS
