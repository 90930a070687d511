/* wt-test-client.h: a WebSocket client and an in-process server for the web terminal's tests */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "odd-web-terminal.h"

G_BEGIN_DECLS

/* Every wait gives up after this long (a failure, never a hang); nothing asserts on time. */
#define WT_TEST_TIMEOUT_S 20

typedef struct {
  SoupWebsocketConnection *conn;
  GQueue                   frames;   /* JsonObject, oldest first, not yet taken */
  GString                 *output;   /* every output frame's data */
  gboolean                 closed;
  gushort                  close_code;
} WtTestClient;

/* A server on a free port with the NULL-terminated name, value pairs of settings (the names
 * of the environment variables; the test's environment is never changed). */
OddWebTerminal *wt_test_server_new      (const char    *first_name,
                                         ...) G_GNUC_NULL_TERMINATED;
guint           wt_test_server_port     (OddWebTerminal *server);

/* @headers: NULL-terminated name, value pairs (may be NULL). */
WtTestClient   *wt_test_client_new      (OddWebTerminal *server,
                                         const char     *query,
                                         const char *const *headers);
void            wt_test_client_free     (WtTestClient   *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WtTestClient, wt_test_client_free)

void            wt_test_client_send     (WtTestClient   *client,
                                         const char     *format,
                                         ...) G_GNUC_PRINTF (2, 3);
/* The next frame of @type (frames of other types before it are dropped, output is kept in
 * ->output); fails the test when none comes. Owned by the caller. */
JsonObject     *wt_test_client_expect   (WtTestClient   *client,
                                         const char     *type);
/* Waits until ->output holds @text. */
void            wt_test_client_wait_output (WtTestClient *client,
                                            const char   *text);
void            wt_test_client_wait_closed (WtTestClient *client);
/* hello, then start: returns the session frame. */
JsonObject     *wt_test_client_start    (WtTestClient   *client);

/* Runs the main context until @done(@data) or the timeout (then FALSE). */
gboolean        wt_test_wait            (gboolean      (*done) (gpointer data),
                                         gpointer        data);
/* Runs the main context for about @ms. */
void            wt_test_spin            (guint           ms);

G_END_DECLS
