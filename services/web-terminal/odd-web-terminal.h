/* odd-web-terminal.h: odd-dashboard in a browser, over a WebSocket to a PTY
 *
 * Serves the page (/, /assets/…), the WebSocket (/ws, frames in odd-wt-protocol.h),
 * /api/stats (the read model's /stats, for the page's fallback) and the common /healthz,
 * /readyz, /metrics. Each session is an OddWtSession; a browser attaches to one with `start`
 * or, after a reload, with `reconnect` and the session's single-use token.
 */
#pragma once

#include "odd-service.h"
#include "odd-wt-config.h"

G_BEGIN_DECLS

#define ODD_TYPE_WEB_TERMINAL (odd_web_terminal_get_type ())
G_DECLARE_FINAL_TYPE (OddWebTerminal, odd_web_terminal, ODD, WEB_TERMINAL, GObject)

/* Takes @config. */
OddWebTerminal *odd_web_terminal_new         (OddWtConfig      *config,
                                              GError          **error);
gboolean        odd_web_terminal_start       (OddWebTerminal   *self,
                                              const char       *bind,
                                              guint             port,
                                              GError          **error);
OddHttpServer  *odd_web_terminal_get_server  (OddWebTerminal   *self);
guint           odd_web_terminal_n_sessions  (OddWebTerminal   *self);

/* The lifecycle's drain: every browser is told, every session hung up; done when the programs
 * are gone. */
void            odd_web_terminal_drain_async (OddWebTerminal   *self,
                                              GCancellable     *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer          user_data);
gboolean        odd_web_terminal_drain_finish (OddWebTerminal  *self,
                                               GAsyncResult    *result,
                                               GError         **error);

G_END_DECLS
