/* odd-wt-session.c: one dashboard in a pseudo-terminal */
#define G_LOG_DOMAIN "odd-web-terminal"

#include "odd-wt-session.h"
#include "odd-wt-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>
#include <glib-unix.h>

#define READ_CHUNK        16384
#define MAX_PENDING_INPUT (64 * 1024)
#define KILL_AFTER_S      3
#define TOKEN_BYTES       32
/* What is read after the program exited: what it printed last, not what its leftover
 * children may go on printing forever. */
#define MAX_FINAL_READ    (256 * 1024)

struct _OddWtSession {
  GObject       parent_instance;

  char         *id;
  char         *token;
  char         *client_key;
  GSubprocess  *child;
  GPid          pid;
  int           master;
  GSource      *read_source;
  GSource      *write_source;
  GByteArray   *pending_input;
  guint         kill_id;
  OddWtRing    *ring;
  guint         cols;
  guint         rows;
  gint64        detached_at;
  gint64        last_input;
  gboolean      paused;
  gboolean      pty_closed;
  gboolean      exited;
  gboolean      over;
  int           status;

  const OddWtSessionSinkFuncs *sink_funcs;
  gpointer                     sink;
  OddWtSessionDoneFunc         done;
  gpointer                     done_data;
};

G_DEFINE_FINAL_TYPE (OddWtSession, odd_wt_session, G_TYPE_OBJECT)

static void update_read_source (OddWtSession *self);

static char *
new_token (GError **error)
{
  guint8 bytes[TOKEN_BYTES];
  g_autofree char *base64 = NULL;
  gsize got = 0;

  while (got < sizeof bytes)
    {
      ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "No random bytes for a reconnect token: %s", g_strerror (saved));
          return NULL;
        }
      got += n;
    }

  /* base64url without padding: 43 characters, safe anywhere. */
  base64 = g_base64_encode (bytes, sizeof bytes);
  explicit_bzero (bytes, sizeof bytes);
  g_strdelimit (base64, "+", '-');
  g_strdelimit (base64, "/", '_');
  g_strdelimit (base64, "=", '\0');
  return g_strdup (base64);
}

static void
clear_token (OddWtSession *self)
{
  if (self->token != NULL)
    explicit_bzero (self->token, strlen (self->token));
  g_clear_pointer (&self->token, g_free);
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* Called when both the program exited and the PTY is drained. */
static void
maybe_finish (OddWtSession *self)
{
  g_autoptr(OddWtSession) hold = NULL;

  if (self->over || !self->exited || !self->pty_closed)
    return;

  hold = g_object_ref (self);
  self->over = TRUE;
  g_clear_handle_id (&self->kill_id, g_source_remove);
  clear_source (&self->read_source);
  clear_source (&self->write_source);

  if (self->sink_funcs != NULL)
    {
      const OddWtSessionSinkFuncs *funcs = self->sink_funcs;
      gpointer sink = self->sink;

      self->sink_funcs = NULL;
      self->sink = NULL;
      funcs->exited (sink, self->status);
    }
  if (self->done != NULL)
    self->done (self, self->done_data);
}

static void
deliver (OddWtSession *self,
         const guint8 *data,
         gsize         len)
{
  odd_wt_ring_append (self->ring, data, len);
  if (self->sink_funcs != NULL)
    self->sink_funcs->output (self->sink, data, len);
}

/* Reads one chunk, or up to @max_bytes; FALSE when the PTY is closed (EIO once the
 * program's side is gone). */
static gboolean
read_pty (OddWtSession *self,
          gsize         max_bytes)
{
  guint8 buffer[READ_CHUNK];
  gsize total = 0;

  do
    {
      ssize_t n = read (self->master, buffer, sizeof buffer);

      if (n > 0)
        {
          deliver (self, buffer, n);
          total += n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRUE;
      return FALSE;
    }
  while (total < max_bytes && !self->over);

  return TRUE;
}

static gboolean
on_pty_readable (int           fd,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  OddWtSession *self = user_data;
  g_autoptr(OddWtSession) hold = g_object_ref (self);

  if (read_pty (self, 0))
    return G_SOURCE_CONTINUE;

  self->pty_closed = TRUE;
  g_clear_pointer (&self->read_source, g_source_unref);
  maybe_finish (self);
  return G_SOURCE_REMOVE;
}

static void
update_read_source (OddWtSession *self)
{
  gboolean want = !self->paused && !self->pty_closed && !self->over;

  if (want && self->read_source == NULL)
    {
      self->read_source = g_unix_fd_source_new (self->master, G_IO_IN | G_IO_HUP | G_IO_ERR);
      g_source_set_callback (self->read_source, G_SOURCE_FUNC (on_pty_readable), self, NULL);
      g_source_attach (self->read_source, NULL);
    }
  else if (!want)
    clear_source (&self->read_source);
}

static void
on_child_exited (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(OddWtSession) self = user_data;
  GSubprocess *child = G_SUBPROCESS (source);

  if (!g_subprocess_wait_finish (child, result, NULL))
    return;

  self->exited = TRUE;
  self->status = g_subprocess_get_if_exited (child)
                 ? g_subprocess_get_exit_status (child)
                 : 128 + g_subprocess_get_term_sig (child);
  g_debug ("Session %s: the program exited (%d)", self->id, self->status);

  /* What it printed last is still in the PTY: read it before the end (even when paused, as
   * nobody will write more). Its own children may keep the PTY open: then it is over now. */
  if (!self->pty_closed)
    {
      read_pty (self, MAX_FINAL_READ);
      self->pty_closed = TRUE;
      clear_source (&self->read_source);
    }
  maybe_finish (self);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
child_setup (gpointer user_data)
{
  sigset_t all;

  setsid ();
  ioctl (STDIN_FILENO, TIOCSCTTY, 0);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  signal (SIGPIPE, SIG_DFL);
}

static gboolean
spawn (OddWtSession       *self,
       const char *const  *argv,
       const char *const  *envp,
       GError            **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  struct winsize size = { .ws_row = self->rows, .ws_col = self->cols };
  int master = -1;
  int slave = -1;
  int err_fd;
  int out_fd;
  const char *identifier;

  if (openpty (&master, &slave, NULL, NULL, &size) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot open a pseudo-terminal: %s", g_strerror (saved));
      return FALSE;
    }
  if (!g_unix_set_fd_nonblocking (master, TRUE, error) ||
      fcntl (master, F_SETFD, FD_CLOEXEC) < 0 ||
      (out_fd = dup (slave)) < 0)
    {
      close (master);
      close (slave);
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot set up the pseudo-terminal");
      return FALSE;
    }
  if ((err_fd = dup (slave)) < 0)
    {
      close (master);
      close (slave);
      close (out_fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot set up the pseudo-terminal");
      return FALSE;
    }

  g_subprocess_launcher_take_stdin_fd (launcher, slave);
  g_subprocess_launcher_take_stdout_fd (launcher, out_fd);
  g_subprocess_launcher_take_stderr_fd (launcher, err_fd);
  g_subprocess_launcher_set_environ (launcher, (char **) envp);
  g_subprocess_launcher_set_cwd (launcher, g_get_home_dir ());
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  self->child = g_subprocess_launcher_spawnv (launcher, argv, error);
  /* The launcher closes the slave's fds when it goes: the master then reads EIO once the
   * program and its children closed theirs. */
  if (self->child == NULL)
    {
      close (master);
      return FALSE;
    }

  self->master = master;
  /* NULL once the program exited and was reaped (it can be that quick): then there is nothing
   * to signal, and pid stays 0 (kill (0, …) would hit our own process group). */
  identifier = g_subprocess_get_identifier (self->child);
  self->pid = identifier != NULL ? (GPid) g_ascii_strtoll (identifier, NULL, 10) : 0;
  g_subprocess_wait_async (self->child, NULL, on_child_exited, g_object_ref (self));
  return TRUE;
}

OddWtSession *
odd_wt_session_new (const char *const     *argv,
                    const char *const     *envp,
                    const char            *client_key,
                    guint                  cols,
                    guint                  rows,
                    gsize                  ring_bytes,
                    OddWtSessionDoneFunc   done,
                    gpointer               done_data,
                    GError               **error)
{
  g_autoptr(OddWtSession) self = g_object_new (ODD_TYPE_WT_SESSION, NULL);

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  self->id = g_uuid_string_random ();
  self->client_key = g_strdup (client_key);
  self->cols = CLAMP (cols, 1, G_MAXUINT16);
  self->rows = CLAMP (rows, 1, G_MAXUINT16);
  self->ring = odd_wt_ring_new (ring_bytes);
  self->done = done;
  self->done_data = done_data;
  self->last_input = g_get_monotonic_time ();
  self->detached_at = self->last_input;

  if ((self->token = new_token (error)) == NULL || !spawn (self, argv, envp, error))
    return NULL;

  update_read_source (self);
  return g_steal_pointer (&self);
}

static void
odd_wt_session_dispose (GObject *object)
{
  OddWtSession *self = ODD_WT_SESSION (object);

  g_clear_handle_id (&self->kill_id, g_source_remove);
  clear_source (&self->read_source);
  clear_source (&self->write_source);
  if (self->child != NULL && !self->exited && self->pid > 0)
    kill (-self->pid, SIGKILL);
  g_clear_object (&self->child);

  G_OBJECT_CLASS (odd_wt_session_parent_class)->dispose (object);
}

static void
odd_wt_session_finalize (GObject *object)
{
  OddWtSession *self = ODD_WT_SESSION (object);

  if (self->master >= 0)
    close (self->master);
  clear_token (self);
  g_free (self->id);
  g_free (self->client_key);
  g_clear_pointer (&self->pending_input, g_byte_array_unref);
  g_clear_pointer (&self->ring, odd_wt_ring_free);

  G_OBJECT_CLASS (odd_wt_session_parent_class)->finalize (object);
}

static void
odd_wt_session_class_init (OddWtSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = odd_wt_session_dispose;
  object_class->finalize = odd_wt_session_finalize;
}

static void
odd_wt_session_init (OddWtSession *self)
{
  self->master = -1;
}

const char *
odd_wt_session_get_id (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), NULL);
  return self->id;
}

const char *
odd_wt_session_get_client_key (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), NULL);
  return self->client_key;
}

const char *
odd_wt_session_get_token (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), NULL);
  return self->token;
}

gboolean
odd_wt_session_claim (OddWtSession *self,
                      const char   *token)
{
  g_autofree char *next = NULL;

  g_return_val_if_fail (ODD_IS_WT_SESSION (self), FALSE);

  if (self->over || !odd_wt_secret_equal (self->token, token))
    return FALSE;
  if ((next = new_token (NULL)) == NULL)
    return FALSE;
  clear_token (self);
  self->token = g_steal_pointer (&next);
  return TRUE;
}

guint
odd_wt_session_get_cols (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), 0);
  return self->cols;
}

guint
odd_wt_session_get_rows (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), 0);
  return self->rows;
}

GPid
odd_wt_session_get_pid (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), 0);
  return self->pid;
}

void
odd_wt_session_attach (OddWtSession                *self,
                       const OddWtSessionSinkFuncs *funcs,
                       gpointer                     sink)
{
  g_return_if_fail (ODD_IS_WT_SESSION (self));
  g_return_if_fail (funcs != NULL);

  self->sink_funcs = funcs;
  self->sink = sink;
  self->detached_at = 0;
  self->last_input = g_get_monotonic_time ();
}

void
odd_wt_session_detach (OddWtSession *self)
{
  g_return_if_fail (ODD_IS_WT_SESSION (self));

  self->sink_funcs = NULL;
  self->sink = NULL;
  self->detached_at = g_get_monotonic_time ();
  /* Nobody to push back any more: keep reading, into the ring only. */
  odd_wt_session_set_paused (self, FALSE);
}

gboolean
odd_wt_session_is_attached (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), FALSE);
  return self->sink_funcs != NULL;
}

gint64
odd_wt_session_get_detached_at (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), 0);
  return self->detached_at;
}

gint64
odd_wt_session_get_last_input (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), 0);
  return self->last_input;
}

GBytes *
odd_wt_session_copy_screen (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), NULL);
  return odd_wt_ring_copy (self->ring);
}

void
odd_wt_session_set_paused (OddWtSession *self,
                           gboolean      paused)
{
  g_return_if_fail (ODD_IS_WT_SESSION (self));

  self->paused = !!paused;
  update_read_source (self);
}

gboolean
odd_wt_session_get_paused (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), FALSE);
  return self->paused;
}

static gssize
write_some (OddWtSession *self,
            const guint8 *data,
            gsize         len)
{
  ssize_t n;

  do
    n = write (self->master, data, len);
  while (n < 0 && errno == EINTR);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  return n;
}

static gboolean
on_pty_writable (int           fd,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  OddWtSession *self = user_data;
  gssize n = write_some (self, self->pending_input->data, self->pending_input->len);

  if (n > 0)
    g_byte_array_remove_range (self->pending_input, 0, n);
  if (n < 0 || self->pending_input->len == 0)
    {
      g_byte_array_set_size (self->pending_input, 0);
      g_clear_pointer (&self->write_source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

gboolean
odd_wt_session_write (OddWtSession *self,
                      const char   *data,
                      gsize         len)
{
  gssize written = 0;

  g_return_val_if_fail (ODD_IS_WT_SESSION (self), FALSE);

  if (self->over || self->pty_closed)
    return FALSE;

  self->last_input = g_get_monotonic_time ();
  if (self->pending_input == NULL || self->pending_input->len == 0)
    {
      written = write_some (self, (const guint8 *) data, len);
      if (written < 0)
        return FALSE;
      if ((gsize) written == len)
        return TRUE;
    }

  /* The program is not reading: keep a little, refuse the rest. */
  if (self->pending_input == NULL)
    self->pending_input = g_byte_array_new ();
  if (self->pending_input->len + (len - written) > MAX_PENDING_INPUT)
    return FALSE;
  g_byte_array_append (self->pending_input, (const guint8 *) data + written, len - written);
  if (self->write_source == NULL)
    {
      self->write_source = g_unix_fd_source_new (self->master, G_IO_OUT);
      g_source_set_callback (self->write_source, G_SOURCE_FUNC (on_pty_writable), self, NULL);
      g_source_attach (self->write_source, NULL);
    }
  return TRUE;
}

void
odd_wt_session_resize (OddWtSession *self,
                       guint         cols,
                       guint         rows)
{
  struct winsize size = { 0 };

  g_return_if_fail (ODD_IS_WT_SESSION (self));

  self->last_input = g_get_monotonic_time ();
  if (self->over || (cols == self->cols && rows == self->rows))
    return;

  size.ws_col = self->cols = cols;
  size.ws_row = self->rows = rows;
  g_debug ("Session %s: resize to %ux%u", self->id, cols, rows);
  if (ioctl (self->master, TIOCSWINSZ, &size) < 0)
    g_debug ("Session %s: cannot resize: %s", self->id, g_strerror (errno));
}

void
odd_wt_session_repaint (OddWtSession *self)
{
  pid_t group;

  g_return_if_fail (ODD_IS_WT_SESSION (self));

  if (self->over)
    return;
  group = tcgetpgrp (self->master);
  if (group > 0)
    kill (-group, SIGWINCH);
  else if (self->pid > 0)
    kill (-self->pid, SIGWINCH);
}

static gboolean
on_kill_timeout (gpointer user_data)
{
  OddWtSession *self = user_data;

  self->kill_id = 0;
  g_debug ("Session %s: the program ignored SIGHUP; killing it", self->id);
  if (self->pid > 0)
    {
      kill (-self->pid, SIGKILL);
      kill (self->pid, SIGKILL);
    }
  return G_SOURCE_REMOVE;
}

void
odd_wt_session_terminate (OddWtSession *self)
{
  g_return_if_fail (ODD_IS_WT_SESSION (self));

  if (self->over || self->exited || self->kill_id != 0 || self->pid <= 0)
    return;
  /* As a terminal closing would: the whole process group hears it. */
  kill (-self->pid, SIGHUP);
  kill (self->pid, SIGHUP);
  kill (-self->pid, SIGCONT);
  self->kill_id = g_timeout_add_seconds (KILL_AFTER_S, on_kill_timeout, self);
}

gboolean
odd_wt_session_is_over (OddWtSession *self)
{
  g_return_val_if_fail (ODD_IS_WT_SESSION (self), TRUE);
  return self->over;
}

void
odd_wt_session_abandon (OddWtSession *self)
{
  g_return_if_fail (ODD_IS_WT_SESSION (self));

  self->sink_funcs = NULL;
  self->sink = NULL;
  self->done = NULL;
  self->done_data = NULL;
  odd_wt_session_terminate (self);
}
