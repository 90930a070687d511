/* odd-wt-session.h: one dashboard in a pseudo-terminal, which outlives its browser tab
 *
 * A session runs its program on the slave side of a PTY and reads the master side on the main
 * context. Everything read goes into a ring (the replay for a reconnect) and to the attached
 * sink, if any. The sink may pause reading (backpressure): the program then blocks on its own
 * writes, and nothing grows here. A reconnect token (256 random bits, base64url) is single-use:
 * odd_wt_session_claim() checks it in constant time and replaces it.
 */
#pragma once

#include <gio/gio.h>

#include "odd-wt-ring.h"

G_BEGIN_DECLS

#define ODD_TYPE_WT_SESSION (odd_wt_session_get_type ())
G_DECLARE_FINAL_TYPE (OddWtSession, odd_wt_session, ODD, WT_SESSION, GObject)

typedef struct {
  void (*output) (gpointer sink, const guint8 *data, gsize len);
  /* The program is gone (@status: its exit code, or 128 + the signal); the session is over. */
  void (*exited) (gpointer sink, int status);
} OddWtSessionSinkFuncs;

/* Called once when the session is over (after its sink's exited), for the owner to drop it. */
typedef void (*OddWtSessionDoneFunc) (OddWtSession *session,
                                      gpointer      user_data);

/* Starts @argv in a new PTY of @cols x @rows with @envp. */
OddWtSession *odd_wt_session_new          (const char *const     *argv,
                                           const char *const     *envp,
                                           const char            *client_key,
                                           guint                  cols,
                                           guint                  rows,
                                           gsize                  ring_bytes,
                                           OddWtSessionDoneFunc   done,
                                           gpointer               done_data,
                                           GError               **error);

const char   *odd_wt_session_get_id           (OddWtSession *self);
const char   *odd_wt_session_get_client_key   (OddWtSession *self);
const char   *odd_wt_session_get_token        (OddWtSession *self);
/* TRUE and a new token when @token is the current one. */
gboolean      odd_wt_session_claim            (OddWtSession *self,
                                               const char   *token);
guint         odd_wt_session_get_cols         (OddWtSession *self);
guint         odd_wt_session_get_rows         (OddWtSession *self);
GPid          odd_wt_session_get_pid          (OddWtSession *self);

void          odd_wt_session_attach           (OddWtSession                *self,
                                               const OddWtSessionSinkFuncs *funcs,
                                               gpointer                     sink);
void          odd_wt_session_detach           (OddWtSession *self);
gboolean      odd_wt_session_is_attached      (OddWtSession *self);
/* Monotonic time of the detach, 0 while attached. */
gint64        odd_wt_session_get_detached_at  (OddWtSession *self);
/* Monotonic time of the last input or resize. */
gint64        odd_wt_session_get_last_input   (OddWtSession *self);
/* Everything kept for a replay. */
GBytes       *odd_wt_session_copy_screen      (OddWtSession *self);

/* Stops or resumes reading the PTY (backpressure from the sink). */
void          odd_wt_session_set_paused       (OddWtSession *self,
                                               gboolean      paused);
gboolean      odd_wt_session_get_paused       (OddWtSession *self);

/* Writes to the program; input it does not read is kept up to a bound, beyond which it is
 * dropped (FALSE). */
gboolean      odd_wt_session_write            (OddWtSession *self,
                                               const char   *data,
                                               gsize         len);
/* TIOCSWINSZ: the kernel sends SIGWINCH to the program when the size changes. */
void          odd_wt_session_resize           (OddWtSession *self,
                                               guint         cols,
                                               guint         rows);
/* SIGWINCH without a size change: the dashboard repaints its whole screen. */
void          odd_wt_session_repaint          (OddWtSession *self);
/* Hangs up: SIGHUP to the program's process group, SIGKILL if it is still there 3 s later. */
void          odd_wt_session_terminate        (OddWtSession *self);
gboolean      odd_wt_session_is_over          (OddWtSession *self);
/* Terminates the session for an owner that goes away first: no sink, no done call. */
void          odd_wt_session_abandon          (OddWtSession *self);

G_END_DECLS
