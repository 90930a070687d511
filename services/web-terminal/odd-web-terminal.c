/* odd-web-terminal.c: odd-dashboard in a browser, over a WebSocket to a PTY */
#define G_LOG_DOMAIN "odd-web-terminal"

#include "odd-web-terminal.h"
#include "odd-wt-protocol.h"
#include "odd-wt-session.h"
#include "odd-wt-tcp.h"
#include "odd-web-terminal-resources.h"

#include <string.h>

#define RESOURCE_PREFIX      "/org/odd/web-terminal"
#define DEFAULT_COLS         80
#define DEFAULT_ROWS         24
#define NOTICE_INTERVAL_US   (5 * G_USEC_PER_SEC)
#define REPLAY_CHUNK         16384
#define DRAIN_POLL_MS        20
#define STATS_TIMEOUT_S      5
/* Room for libsoup's own limit above ours: frames between the two get our error frame. */
#define SOUP_MAX_PAYLOAD     (4 * 1024 * 1024)

typedef enum {
  CLIENT_AWAIT_AUTH,
  CLIENT_AWAIT_ATTACH,
  CLIENT_ATTACHED,
  CLIENT_CLOSING,
} ClientState;

typedef struct {
  OddWebTerminal          *server;      /* not a reference: the server outlives its clients */
  SoupWebsocketConnection *conn;
  GSocket                 *socket;
  char                    *client_key;
  ClientState              state;
  OddWtSession            *session;     /* while attached */
  OddWtUtf8Carry           carry;
  guint64                  sent_wire;   /* bytes handed to libsoup, frame headers included */
  guint64                  acked_base;
  gint64                   connected_at;
  gint64                   last_notice;
  guint                    drain_id;
  gboolean                 fail_spawn;  /* ?fault=spawn, only with ODD_WT_FAULTS */
} Client;

struct _OddWebTerminal {
  GObject            parent_instance;

  OddWtConfig       *config;
  OddSchemaRegistry *schemas;
  OddHttpServer     *http;
  GHashTable        *sessions;       /* id → OddWtSession */
  GHashTable        *per_client;     /* client key → session count */
  GPtrArray         *clients;        /* Client, not owned (freed when their socket closes) */
  char             **child_env;
  SoupSession       *upstream;
  guint              sweep_id;
  GTask             *drain;

  OddGauge          *sessions_gauge;
  OddCounter        *bytes_total;
  OddCounter        *rejections_total;
  OddCounter        *paused_total;
  OddCounter        *input_dropped_total;
  OddCounter        *sessions_total;
};

G_DEFINE_FINAL_TYPE (OddWebTerminal, odd_web_terminal, G_TYPE_OBJECT)

static void client_detach (Client *client);

/* Metrics */

static void
update_session_gauges (OddWebTerminal *self)
{
  GHashTableIter iter;
  gpointer value;
  guint attached = 0;
  guint detached = 0;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (odd_wt_session_is_attached (value))
      attached++;
    else
      detached++;
  odd_gauge_set (self->sessions_gauge, "attached", attached);
  odd_gauge_set (self->sessions_gauge, "detached", detached);
}

/* Sending */

static guint64
wire_size (gsize payload)
{
  return payload + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);
}

static gboolean
client_can_send (Client *client)
{
  return client->conn != NULL &&
         soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN;
}

static void
client_send (Client     *client,
             const char *text)
{
  if (!client_can_send (client))
    return;
  soup_websocket_connection_send_text (client->conn, text);
  client->sent_wire += wire_size (strlen (text));
}

/* Bytes sent that the browser has not taken yet: libsoup's queue and the socket's. */
static guint64
client_queued (Client *client)
{
  guint64 acked = 0;

  if (client->socket == NULL ||
      !odd_wt_tcp_bytes_acked (g_socket_get_fd (client->socket), &acked))
    return 0;
  acked -= MIN (acked, client->acked_base);
  return client->sent_wire > acked ? client->sent_wire - acked : 0;
}

static void
client_close (Client                   *client,
              SoupWebsocketCloseCode    code,
              const char               *reason)
{
  client_detach (client);
  client->state = CLIENT_CLOSING;
  if (client_can_send (client))
    soup_websocket_connection_close (client->conn, code, reason);
}

/* An error frame, counted by its code, then the end of the connection. */
static void
client_reject (Client     *client,
               const char *code,
               const char *message)
{
  g_autofree char *frame = odd_wt_frame_error (code, message);

  odd_counter_inc (client->server->rejections_total, code);
  g_debug ("Rejecting %s: %s (%s)", client->client_key, message, code);
  client_send (client, frame);
  client_close (client, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, code);
}

/* An error frame for a frame that was wrong; the connection stays. */
static void
client_complain (Client     *client,
                 const char *message)
{
  g_autofree char *frame = odd_wt_frame_error ("BAD_FRAME", message);

  odd_counter_inc (client->server->rejections_total, "BAD_FRAME");
  /* A client that sends junk and reads nothing gets cut off, not an ever longer queue. */
  if (client_queued (client) > client->server->config->queue_bytes)
    {
      client_close (client, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "BAD_FRAME");
      return;
    }
  client_send (client, frame);
}

static void
client_notice (Client     *client,
               const char *message)
{
  g_autofree char *frame = odd_wt_frame_notice (message);

  client_send (client, frame);
}

/* Backpressure: the PTY is read again once the browser took half of the bound. */
static gboolean
on_drain_poll (gpointer user_data)
{
  Client *client = user_data;

  if (client->session == NULL)
    {
      client->drain_id = 0;
      return G_SOURCE_REMOVE;
    }
  if (client_queued (client) > client->server->config->queue_bytes / 2)
    return G_SOURCE_CONTINUE;

  client->drain_id = 0;
  odd_wt_session_set_paused (client->session, FALSE);
  return G_SOURCE_REMOVE;
}

static void
client_check_queue (Client *client)
{
  if (client->session == NULL || client->drain_id != 0 ||
      client_queued (client) <= client->server->config->queue_bytes)
    return;

  odd_counter_inc (client->server->paused_total, NULL);
  odd_wt_session_set_paused (client->session, TRUE);
  client->drain_id = g_timeout_add (DRAIN_POLL_MS, on_drain_poll, client);
}

static void
client_send_output (Client       *client,
                    const guint8 *data,
                    gsize         len)
{
  g_autofree char *text = odd_wt_utf8_carry_take (&client->carry, data, len);
  g_autofree char *frame = NULL;

  if (text[0] == '\0')
    return;
  frame = odd_wt_frame_output (text);
  client_send (client, frame);
  client_check_queue (client);
}

/* The session's sink */

static void
on_session_output (gpointer      sink,
                   const guint8 *data,
                   gsize         len)
{
  Client *client = sink;

  odd_counter_add (client->server->bytes_total, "out", len);
  client_send_output (client, data, len);
}

static void
on_session_exited (gpointer sink,
                   int      status)
{
  Client *client = sink;
  g_autofree char *frame = odd_wt_frame_exit (status);

  /* The session already let go of its sink. */
  g_clear_handle_id (&client->drain_id, g_source_remove);
  g_clear_object (&client->session);
  client_send (client, frame);
  client_close (client, SOUP_WEBSOCKET_CLOSE_NORMAL, "the dashboard exited");
}

static const OddWtSessionSinkFuncs client_sink_funcs = {
  .output = on_session_output,
  .exited = on_session_exited,
};

static void
client_detach (Client *client)
{
  if (client->session == NULL)
    return;

  g_clear_handle_id (&client->drain_id, g_source_remove);
  odd_wt_session_detach (client->session);
  g_clear_object (&client->session);
  update_session_gauges (client->server);
}

static Client *
find_attached_client (OddWebTerminal *self,
                      OddWtSession   *session)
{
  for (guint i = 0; i < self->clients->len; i++)
    {
      Client *client = g_ptr_array_index (self->clients, i);

      if (client->session == session)
        return client;
    }
  return NULL;
}

static void
client_attach (Client       *client,
               OddWtSession *session,
               gboolean      reconnected)
{
  g_autofree char *frame = NULL;
  Client *previous = find_attached_client (client->server, session);

  /* A reload can reach us before the old tab's close: the newest tab wins. */
  if (previous != NULL)
    {
      client_notice (previous, "This session was opened in another tab or window.");
      client_close (previous, SOUP_WEBSOCKET_CLOSE_NORMAL, "opened elsewhere");
    }

  client->session = g_object_ref (session);
  client->state = CLIENT_ATTACHED;
  memset (&client->carry, 0, sizeof client->carry);
  frame = odd_wt_frame_session (reconnected, odd_wt_session_get_id (session),
                                odd_wt_session_get_token (session),
                                odd_wt_session_get_cols (session),
                                odd_wt_session_get_rows (session));
  client_send (client, frame);

  if (reconnected)
    {
      g_autoptr(GBytes) screen = odd_wt_session_copy_screen (session);
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (screen, &len);

      for (gsize at = 0; at < len; at += REPLAY_CHUNK)
        client_send_output (client, data + at, MIN (REPLAY_CHUNK, len - at));
    }

  odd_wt_session_attach (session, &client_sink_funcs, client);
  if (reconnected)
    odd_wt_session_repaint (session);
  if (client->server->config->read_only)
    client_notice (client, "Read-only mode: this terminal shows the dashboard; keys and pastes are ignored.");
  update_session_gauges (client->server);
  client_check_queue (client);
}

/* Sessions */

static void
forget_client_session (OddWebTerminal *self,
                       const char     *client_key)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_client, client_key));

  if (count <= 1)
    g_hash_table_remove (self->per_client, client_key);
  else
    g_hash_table_insert (self->per_client, g_strdup (client_key), GUINT_TO_POINTER (count - 1));
}

static void
maybe_finish_drain (OddWebTerminal *self)
{
  if (self->drain != NULL && g_hash_table_size (self->sessions) == 0)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->drain);

      g_task_return_boolean (task, TRUE);
    }
}

static void
on_session_done (OddWtSession *session,
                 gpointer      user_data)
{
  OddWebTerminal *self = user_data;

  g_info ("Session %s is over", odd_wt_session_get_id (session));
  forget_client_session (self, odd_wt_session_get_client_key (session));
  g_hash_table_remove (self->sessions, odd_wt_session_get_id (session));
  update_session_gauges (self);
  maybe_finish_drain (self);
}

static void
client_start (Client     *client,
              OddWtFrame *frame)
{
  OddWebTerminal *self = client->server;
  g_autoptr(GError) error = NULL;
  g_autoptr(OddWtSession) session = NULL;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_client, client->client_key));

  if (self->drain != NULL)
    {
      client_reject (client, "SHUTTING_DOWN", "The server is stopping; try again in a moment.");
      return;
    }
  if (g_hash_table_size (self->sessions) >= self->config->global_cap)
    {
      client_reject (client, "GLOBAL_CAP",
                     "The server runs as many dashboards as it may; try again later.");
      return;
    }
  if (count >= self->config->per_client_cap)
    {
      client_reject (client, "PER_CLIENT_CAP",
                     "Too many dashboards from this address: close another tab first.");
      return;
    }

  if (client->fail_spawn)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "injected fault (ODD_WT_FAULTS)");
  else
    session = odd_wt_session_new ((const char *const *) self->config->command,
                                  (const char *const *) self->child_env,
                                  client->client_key,
                                  frame->cols > 0 ? frame->cols : DEFAULT_COLS,
                                  frame->rows > 0 ? frame->rows : DEFAULT_ROWS,
                                  self->config->ring_bytes,
                                  on_session_done, self, &error);
  if (session == NULL)
    {
      g_autofree char *message = g_strdup_printf ("Cannot start the dashboard: %s", error->message);

      if (client->fail_spawn)
        g_info ("%s", message);
      else
        g_warning ("%s", message);
      client_reject (client, "PTY_SPAWN_FAILED", message);
      return;
    }

  g_info ("Session %s started for %s (pid %d)", odd_wt_session_get_id (session),
          client->client_key, (int) odd_wt_session_get_pid (session));
  g_hash_table_insert (self->sessions, g_strdup (odd_wt_session_get_id (session)),
                       g_object_ref (session));
  g_hash_table_insert (self->per_client, g_strdup (client->client_key), GUINT_TO_POINTER (count + 1));
  odd_counter_inc (self->sessions_total, NULL);
  client_attach (client, session, FALSE);
}

static void
client_reconnect (Client     *client,
                  OddWtFrame *frame)
{
  OddWtSession *session = g_hash_table_lookup (client->server->sessions, frame->session);

  /* One answer for an unknown session and a wrong token: nothing to learn from it. */
  if (session == NULL || !odd_wt_session_claim (session, frame->token))
    {
      client_reject (client, "INVALID_TOKEN",
                     "This session cannot be resumed (it ended, or the token was used already); "
                     "start a new one.");
      return;
    }

  if (frame->cols > 0 && frame->rows > 0)
    odd_wt_session_resize (session, frame->cols, frame->rows);
  g_info ("Session %s resumed by %s", odd_wt_session_get_id (session), client->client_key);
  client_attach (client, session, TRUE);
}

static void
client_input (Client     *client,
              OddWtFrame *frame)
{
  OddWebTerminal *self = client->server;
  gsize len = strlen (frame->data);

  if (self->config->read_only)
    {
      gint64 now = g_get_monotonic_time ();

      odd_counter_add (self->input_dropped_total, "read_only", len);
      if (now - client->last_notice >= NOTICE_INTERVAL_US)
        {
          client->last_notice = now;
          client_notice (client, "Read-only mode: keys and pastes are ignored.");
        }
      return;
    }

  if (len == 0)
    return;
  if (!odd_wt_session_write (client->session, frame->data, len))
    {
      odd_counter_add (self->input_dropped_total, "not_read", len);
      client_notice (client, "The dashboard is not reading its input; what you typed was dropped.");
      return;
    }
  odd_counter_add (self->bytes_total, "in", len);
}

static void
client_handle (Client     *client,
               OddWtFrame *frame)
{
  OddWebTerminal *self = client->server;

  if (frame->type == ODD_WT_FRAME_PING)
    {
      g_autofree char *pong = odd_wt_frame_pong ();

      client_send (client, pong);
      return;
    }

  switch (client->state)
    {
    case CLIENT_AWAIT_AUTH:
      if (frame->type != ODD_WT_FRAME_AUTH)
        client_reject (client, "AUTH_REQUIRED", "This server needs a token: send an auth frame first.");
      else if (!odd_wt_secret_equal (self->config->token, frame->token))
        client_reject (client, "AUTH_FAILED", "The token is not right.");
      else
        client->state = CLIENT_AWAIT_ATTACH;
      break;

    case CLIENT_AWAIT_ATTACH:
      if (frame->type == ODD_WT_FRAME_START)
        client_start (client, frame);
      else if (frame->type == ODD_WT_FRAME_RECONNECT)
        client_reconnect (client, frame);
      else if (frame->type == ODD_WT_FRAME_AUTH)
        client_complain (client, "already authenticated");
      else
        client_complain (client, "send start or reconnect first");
      break;

    case CLIENT_ATTACHED:
      if (frame->type == ODD_WT_FRAME_INPUT)
        client_input (client, frame);
      else if (frame->type == ODD_WT_FRAME_RESIZE)
        odd_wt_session_resize (client->session, frame->cols, frame->rows);
      else
        client_complain (client, "this connection is attached to a session already");
      break;

    case CLIENT_CLOSING:
    default:
      break;
    }
}

/* The connection */

static void
on_message (SoupWebsocketConnection *conn,
            SoupWebsocketDataType    type,
            GBytes                  *message,
            gpointer                 user_data)
{
  Client *client = user_data;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  g_autofree char *problem = NULL;
  g_autoptr(OddWtFrame) frame = NULL;

  if (client->state == CLIENT_CLOSING)
    return;
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      client_complain (client, "binary frames are not accepted: send JSON in text frames");
      return;
    }
  if (len > client->server->config->max_frame_bytes)
    {
      g_autofree char *message_text =
        g_strdup_printf ("a frame of %" G_GSIZE_FORMAT " bytes is over the limit of %" G_GSIZE_FORMAT,
                         len, client->server->config->max_frame_bytes);

      client_complain (client, message_text);
      return;
    }

  frame = odd_wt_frame_parse (client->server->schemas, text, len, &problem);
  if (frame == NULL)
    {
      client_complain (client, problem);
      return;
    }
  client_handle (client, frame);
}

static void
client_free (Client *client)
{
  g_clear_handle_id (&client->drain_id, g_source_remove);
  if (client->conn != NULL)
    g_signal_handlers_disconnect_by_data (client->conn, client);
  g_clear_object (&client->conn);
  g_clear_object (&client->socket);
  g_free (client->client_key);
  g_free (client);
}

static void
on_closed (SoupWebsocketConnection *conn,
           gpointer                 user_data)
{
  Client *client = user_data;
  OddWebTerminal *self = client->server;

  if (client->session != NULL)
    g_info ("Session %s detached; it waits %u s for a reconnect",
            odd_wt_session_get_id (client->session), self->config->grace_s);
  client_detach (client);
  g_ptr_array_remove (self->clients, client);
  client_free (client);
}

static void
on_error (SoupWebsocketConnection *conn,
          GError                  *error,
          gpointer                 user_data)
{
  Client *client = user_data;

  g_debug ("WebSocket of %s: %s", client->client_key, error->message);
}

/* The address a session counts against: the peer, or what a trusted proxy says the peer was
 * (X-Forwarded-For, read from the right, skipping our own proxies). */
static char *
client_key_for (OddWebTerminal    *self,
                SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  GInetAddress *peer = G_IS_INET_SOCKET_ADDRESS (remote)
                       ? g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)) : NULL;
  const char *forwarded;
  g_auto(GStrv) hops = NULL;

  if (peer == NULL)
    return g_strdup ("unknown");
  forwarded = soup_message_headers_get_list (soup_server_message_get_request_headers (msg),
                                             "X-Forwarded-For");
  if (forwarded == NULL || !odd_wt_config_is_trusted_proxy (self->config, peer))
    return g_inet_address_to_string (peer);

  hops = g_strsplit (forwarded, ",", -1);
  for (int i = (int) g_strv_length (hops) - 1; i >= 0; i--)
    {
      g_autoptr(GInetAddress) hop = g_inet_address_new_from_string (g_strstrip (hops[i]));

      if (hop == NULL)
        break;
      if (!odd_wt_config_is_trusted_proxy (self->config, hop))
        return g_inet_address_to_string (hop);
    }
  return g_inet_address_to_string (peer);
}

/* A browser sends Origin: the page's own (same host as Host) or a configured one may connect;
 * another site's page may not drive the dashboard. Clients without Origin are not browsers. */
static gboolean
origin_allowed (OddWebTerminal    *self,
                SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *host = soup_message_headers_get_one (headers, "Host");
  g_autoptr(GUri) uri = NULL;
  g_autofree char *origin_host = NULL;

  if (origin == NULL)
    return TRUE;
  for (guint i = 0; i < self->config->allowed_origins->len; i++)
    if (g_ascii_strcasecmp (origin, g_ptr_array_index (self->config->allowed_origins, i)) == 0)
      return TRUE;

  uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || host == NULL || g_uri_get_host (uri) == NULL)
    return FALSE;
  origin_host = g_uri_get_port (uri) > 0
                ? g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri))
                : g_strdup (g_uri_get_host (uri));
  return g_ascii_strcasecmp (origin_host, host) == 0;
}

/* TRUE with a valid bearer token, FALSE with none; a wrong one is rejected (@bad). */
static gboolean
header_authenticates (OddWebTerminal    *self,
                      SoupServerMessage *msg,
                      gboolean          *bad)
{
  const char *value = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Authorization");
  g_autofree char *token = NULL;

  *bad = FALSE;
  if (value == NULL)
    return FALSE;
  if (g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    {
      *bad = TRUE;
      return FALSE;
    }
  token = g_strstrip (g_strdup (value + 7));
  *bad = !odd_wt_secret_equal (self->config->token, token);
  explicit_bzero (token, strlen (token));
  return !*bad;
}

static char *
fault_of (OddWebTerminal    *self,
          SoupServerMessage *msg)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) params = NULL;

  if (!self->config->faults || query == NULL)
    return NULL;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  return params != NULL ? g_strdup (g_hash_table_lookup (params, "fault")) : NULL;
}

static guint
count_connections (OddWebTerminal *self,
                   const char     *client_key)
{
  guint count = 0;

  for (guint i = 0; i < self->clients->len; i++)
    {
      Client *client = g_ptr_array_index (self->clients, i);

      if (client->state != CLIENT_CLOSING && strcmp (client->client_key, client_key) == 0)
        count++;
    }
  return count;
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *conn,
              gpointer                 user_data)
{
  OddWebTerminal *self = user_data;
  Client *client = g_new0 (Client, 1);
  GIOStream *stream = soup_websocket_connection_get_io_stream (conn);
  g_autofree char *fault = fault_of (self, msg);
  g_autofree char *hello = NULL;
  gboolean bad_header = FALSE;
  gboolean authenticated;

  client->server = self;
  client->conn = g_object_ref (conn);
  client->client_key = client_key_for (self, msg);
  client->connected_at = g_get_monotonic_time ();
  if (G_IS_SOCKET_CONNECTION (stream))
    client->socket = g_object_ref (g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream)));
  else if (soup_server_message_get_socket (msg) != NULL)
    client->socket = g_object_ref (soup_server_message_get_socket (msg));
  if (client->socket != NULL)
    odd_wt_tcp_bytes_acked (g_socket_get_fd (client->socket), &client->acked_base);
  g_ptr_array_add (self->clients, client);

  soup_websocket_connection_set_max_incoming_payload_size (conn, SOUP_MAX_PAYLOAD);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), client);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), client);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), client);

  /* Connections that never attach are bounded too (each also lasts at most
   * ODD_WT_HANDSHAKE_S): twice the session caps. */
  if (self->clients->len > 2 * self->config->global_cap)
    {
      client_reject (client, "GLOBAL_CAP", "The server has as many connections as it may; try again later.");
      return;
    }
  if (count_connections (self, client->client_key) > 2 * self->config->per_client_cap)
    {
      client_reject (client, "PER_CLIENT_CAP", "Too many connections from this address: close another tab first.");
      return;
    }
  if (!origin_allowed (self, msg))
    {
      client_reject (client, "ORIGIN_FORBIDDEN",
                     "This page's origin may not open the terminal (see ODD_WT_ALLOWED_ORIGINS).");
      return;
    }
  if (g_strcmp0 (fault, "reject") == 0)
    {
      client_reject (client, "INTERNAL_ERROR", "Injected fault: connection rejected (ODD_WT_FAULTS).");
      return;
    }
  client->fail_spawn = g_strcmp0 (fault, "spawn") == 0;

  authenticated = self->config->token == NULL || header_authenticates (self, msg, &bad_header);
  if (bad_header)
    {
      client_reject (client, "AUTH_FAILED", "The token in the Authorization header is not right.");
      return;
    }
  client->state = authenticated ? CLIENT_AWAIT_ATTACH : CLIENT_AWAIT_AUTH;
  hello = odd_wt_frame_hello (!authenticated, self->config->read_only);
  client_send (client, hello);
}

/* Timeouts */

static gboolean
on_sweep (gpointer user_data)
{
  OddWebTerminal *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 idle_limit = (gint64) self->config->idle_timeout_s * G_USEC_PER_SEC;
  gint64 grace = (gint64) self->config->grace_s * G_USEC_PER_SEC;
  gint64 handshake = (gint64) self->config->handshake_s * G_USEC_PER_SEC;
  g_autoptr(GPtrArray) clients = g_ptr_array_copy (self->clients, NULL, NULL);
  g_autoptr(GList) sessions = g_hash_table_get_values (self->sessions);

  for (guint i = 0; i < clients->len; i++)
    {
      Client *client = g_ptr_array_index (clients, i);

      if ((client->state == CLIENT_AWAIT_AUTH || client->state == CLIENT_AWAIT_ATTACH) &&
          now - client->connected_at > handshake)
        client_reject (client, "HANDSHAKE_TIMEOUT",
                       "No start or reconnect frame came in time.");
    }

  for (GList *l = sessions; l != NULL; l = l->next)
    {
      OddWtSession *session = l->data;
      gint64 detached_at = odd_wt_session_get_detached_at (session);

      if (now - odd_wt_session_get_last_input (session) > idle_limit)
        {
          Client *client = find_attached_client (self, session);
          g_autofree char *message =
            g_strdup_printf ("The session ended after %u s without input; reload to start again.",
                             self->config->idle_timeout_s);

          g_info ("Session %s idle: ending it", odd_wt_session_get_id (session));
          odd_counter_inc (self->rejections_total, "IDLE_TIMEOUT");
          if (client != NULL)
            {
              g_autofree char *frame = odd_wt_frame_error ("IDLE_TIMEOUT", message);

              client_send (client, frame);
              client_close (client, SOUP_WEBSOCKET_CLOSE_NORMAL, "idle");
            }
          odd_wt_session_terminate (session);
        }
      else if (detached_at != 0 && now - detached_at > grace)
        {
          g_info ("Session %s was not resumed within %u s: ending it",
                  odd_wt_session_get_id (session), self->config->grace_s);
          odd_wt_session_terminate (session);
        }
    }
  return G_SOURCE_CONTINUE;
}

/* HTTP: the page and /api/stats */

static const char *
content_type_for (const char *path)
{
  if (g_str_has_suffix (path, ".html"))
    return "text/html; charset=utf-8";
  if (g_str_has_suffix (path, ".js"))
    return "text/javascript; charset=utf-8";
  if (g_str_has_suffix (path, ".css"))
    return "text/css; charset=utf-8";
  if (g_str_has_suffix (path, ".svg"))
    return "image/svg+xml";
  return "application/octet-stream";
}

static void
serve_resource (SoupServerMessage *msg,
                const char        *name,
                const char        *cache_control)
{
  g_autofree char *resource_path = g_strconcat (RESOURCE_PREFIX "/", name, NULL);
  g_autoptr(GBytes) data = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  if (strstr (name, "..") != NULL ||
      (data = g_resource_lookup_data (odd_web_terminal_get_resource (), resource_path,
                                     G_RESOURCE_LOOKUP_FLAGS_NONE, NULL)) == NULL)
    {
      g_autoptr(JsonNode) details = odd_http_details_new (name, "no such file");

      odd_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "not found", details);
      return;
    }

  soup_message_headers_replace (headers, "Cache-Control", cache_control);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "X-Frame-Options", "DENY");
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  /* xterm.js sets inline styles; everything else comes from here. */
  soup_message_headers_replace (headers, "Content-Security-Policy",
                                "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, content_type_for (name), SOUP_MEMORY_COPY,
                                    g_bytes_get_data (data, NULL), g_bytes_get_size (data));
}

static void
handle_index (OddHttpServer     *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  serve_resource (msg, "index.html", "no-store");
}

static void
handle_asset (OddHttpServer     *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  g_autofree char *name = g_strconcat ("assets/", path + strlen ("/assets/"), NULL);

  serve_resource (msg, name, "public, max-age=3600");
}

typedef struct {
  SoupServerMessage *msg;
  SoupMessage       *request;
  char              *url;
} StatsRequest;

static void
stats_request_free (StatsRequest *request)
{
  g_object_unref (request->msg);
  g_object_unref (request->request);
  g_free (request->url);
  g_free (request);
}

static void
on_stats (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  StatsRequest *request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  guint status = soup_message_get_status (request->request);

  if (body == NULL)
    {
      g_autofree char *message = g_strdup_printf ("cannot reach the read model at %s: %s",
                                                  request->url, error->message);
      g_autoptr(JsonNode) details = odd_http_details_new ("READ_MODEL_URL", message);

      odd_http_reply_error (request->msg, SOUP_STATUS_BAD_GATEWAY, "read model unavailable", details);
    }
  else if (status != SOUP_STATUS_OK)
    {
      g_autofree char *message = g_strdup_printf ("the read model answered %u", status);
      g_autoptr(JsonNode) details = odd_http_details_new ("READ_MODEL_URL", message);

      odd_http_reply_error (request->msg, SOUP_STATUS_BAD_GATEWAY, "read model unavailable", details);
    }
  else
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                    "Cache-Control", "no-store");
      soup_server_message_set_status (request->msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (request->msg, "application/json", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    }
  soup_server_message_unpause (request->msg);
  stats_request_free (request);
}

static void
handle_stats (OddHttpServer     *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  OddWebTerminal *self = user_data;
  StatsRequest *request = g_new0 (StatsRequest, 1);
  g_autofree char *base = g_strdup (self->config->read_model_url);

  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  request->url = g_strconcat (base, "/stats", NULL);
  request->request = soup_message_new ("GET", request->url);
  if (request->request == NULL)
    {
      g_autoptr(JsonNode) details = odd_http_details_new ("READ_MODEL_URL", "not an http URL");

      odd_http_reply_error (msg, SOUP_STATUS_BAD_GATEWAY, "read model unavailable", details);
      g_free (request->url);
      g_free (request);
      return;
    }
  request->msg = g_object_ref (msg);
  soup_server_message_pause (msg);
  soup_session_send_and_read_async (self->upstream, request->request, G_PRIORITY_DEFAULT, NULL,
                                    on_stats, request);
}

/* The object */

static char *
check_ready (gpointer user_data)
{
  OddWebTerminal *self = user_data;

  if (self->drain != NULL)
    return g_strdup ("stopping");
  if (!g_file_test (self->config->command[0], G_FILE_TEST_IS_EXECUTABLE))
    return g_strdup_printf ("%s is not an executable program", self->config->command[0]);
  return NULL;
}

static char **
child_environment (OddWtConfig *config)
{
  char **env = g_get_environ ();
  g_auto(GStrv) names = g_listenv ();

  /* The token and the server's own settings are not the dashboard's business. */
  for (guint i = 0; names[i] != NULL; i++)
    if (g_str_has_prefix (names[i], "ODD_WT_") || strcmp (names[i], "ODD_WEB_TERMINAL_COMMAND") == 0)
      env = g_environ_unsetenv (env, names[i]);
  env = g_environ_setenv (env, "TERM", "xterm-256color", TRUE);
  env = g_environ_setenv (env, "COLORTERM", "truecolor", TRUE);
  env = g_environ_setenv (env, "READ_MODEL_URL", config->read_model_url, TRUE);
  env = g_environ_setenv (env, "GATEWAY_URL", config->gateway_url, TRUE);
  if (g_environ_getenv (env, "LANG") == NULL && g_environ_getenv (env, "LC_ALL") == NULL)
    env = g_environ_setenv (env, "LANG", "C.UTF-8", TRUE);
  return env;
}

static void
odd_web_terminal_dispose (GObject *object)
{
  OddWebTerminal *self = ODD_WEB_TERMINAL (object);

  g_clear_handle_id (&self->sweep_id, g_source_remove);
  /* Disposing the server closes the connections; their clients go with them. */
  while (self->clients->len > 0)
    {
      Client *client = g_ptr_array_steal_index (self->clients, self->clients->len - 1);

      client_detach (client);
      client_free (client);
    }
  g_clear_object (&self->http);
  if (self->sessions != NULL)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->sessions);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        odd_wt_session_abandon (value);
      g_clear_pointer (&self->sessions, g_hash_table_unref);
    }
  g_clear_object (&self->upstream);
  g_clear_object (&self->schemas);

  G_OBJECT_CLASS (odd_web_terminal_parent_class)->dispose (object);
}

static void
odd_web_terminal_finalize (GObject *object)
{
  OddWebTerminal *self = ODD_WEB_TERMINAL (object);

  g_ptr_array_unref (self->clients);
  g_hash_table_unref (self->per_client);
  g_strfreev (self->child_env);
  g_clear_pointer (&self->config, odd_wt_config_free);

  G_OBJECT_CLASS (odd_web_terminal_parent_class)->finalize (object);
}

static void
odd_web_terminal_class_init (OddWebTerminalClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = odd_web_terminal_dispose;
  object_class->finalize = odd_web_terminal_finalize;
}

static void
odd_web_terminal_init (OddWebTerminal *self)
{
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->per_client = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->clients = g_ptr_array_new ();
}

OddWebTerminal *
odd_web_terminal_new (OddWtConfig  *config,
                      GError      **error)
{
  g_autoptr(OddWebTerminal) self = g_object_new (ODD_TYPE_WEB_TERMINAL, NULL);
  static const char *const client_frame[] = { "web-terminal-client-frame", NULL };
  static const char *const get[] = { "GET", NULL };
  OddMetrics *metrics;

  g_return_val_if_fail (config != NULL, NULL);

  self->config = config;
  self->schemas = odd_service_load_contracts (client_frame, error);
  if (self->schemas == NULL)
    return NULL;
  self->child_env = child_environment (config);
  self->upstream = soup_session_new_with_options ("timeout", STATS_TIMEOUT_S,
                                                  "user-agent", "odd-web-terminal", NULL);

  self->http = odd_http_server_new ("web-terminal", NULL, check_ready, self);
  metrics = odd_http_server_get_metrics (self->http);
  self->sessions_gauge = odd_metrics_gauge (metrics, "web_terminal_sessions",
                                            "Sessions by state (attached to a browser, or waiting for a reconnect)",
                                            "state");
  self->sessions_total = odd_metrics_counter (metrics, "web_terminal_sessions_started_total",
                                              "Sessions started", NULL);
  self->bytes_total = odd_metrics_counter (metrics, "web_terminal_bytes_total",
                                           "Bytes typed into (in) and printed by (out) the dashboards",
                                           "direction");
  self->rejections_total = odd_metrics_counter (metrics, "web_terminal_rejections_total",
                                                "Connections and frames refused, by error code", "reason");
  self->paused_total = odd_metrics_counter (metrics, "web_terminal_output_paused_total",
                                            "Times a slow browser paused its dashboard's output", NULL);
  self->input_dropped_total = odd_metrics_counter (metrics, "web_terminal_input_dropped_bytes_total",
                                                   "Input bytes dropped (read_only, not_read)", "reason");
  update_session_gauges (self);

  odd_http_server_add_route (self->http, "/", get, handle_index, self);
  odd_http_server_add_route (self->http, "/index.html", get, handle_index, self);
  odd_http_server_add_route (self->http, "/assets/", get, handle_asset, self);
  odd_http_server_add_route (self->http, "/api/stats", get, handle_stats, self);
  soup_server_add_websocket_handler (odd_http_server_get_soup (self->http), "/ws", NULL, NULL,
                                     on_websocket, self, NULL);

  g_info ("Runs %s; auth %s; %s; caps %u per client, %u in all",
          config->command[0], config->token != NULL ? "by token" : "off",
          config->read_only ? "read-only" : "read-write", config->per_client_cap, config->global_cap);
  return g_steal_pointer (&self);
}

gboolean
odd_web_terminal_start (OddWebTerminal  *self,
                        const char      *bind,
                        guint            port,
                        GError         **error)
{
  g_return_val_if_fail (ODD_IS_WEB_TERMINAL (self), FALSE);

  if (!odd_http_server_listen (self->http, bind, port, error))
    return FALSE;
  self->sweep_id = g_timeout_add_seconds (1, on_sweep, self);
  return TRUE;
}

OddHttpServer *
odd_web_terminal_get_server (OddWebTerminal *self)
{
  g_return_val_if_fail (ODD_IS_WEB_TERMINAL (self), NULL);
  return self->http;
}

guint
odd_web_terminal_n_sessions (OddWebTerminal *self)
{
  g_return_val_if_fail (ODD_IS_WEB_TERMINAL (self), 0);
  return g_hash_table_size (self->sessions);
}

static void
on_drain_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  OddWebTerminal *self = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&self->drain);

  if (task != NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "%u dashboards were still running", g_hash_table_size (self->sessions));
}

void
odd_web_terminal_drain_async (OddWebTerminal      *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GPtrArray) clients = NULL;
  g_autoptr(GList) sessions = NULL;

  g_return_if_fail (ODD_IS_WEB_TERMINAL (self));
  g_return_if_fail (self->drain == NULL);

  self->drain = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->drain, odd_web_terminal_drain_async);
  if (cancellable != NULL)
    g_cancellable_connect (cancellable, G_CALLBACK (on_drain_cancelled), self, NULL);

  clients = g_ptr_array_copy (self->clients, NULL, NULL);
  for (guint i = 0; i < clients->len; i++)
    {
      Client *client = g_ptr_array_index (clients, i);

      client_notice (client, "The server is stopping.");
      client_close (client, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "stopping");
    }
  sessions = g_hash_table_get_values (self->sessions);
  for (GList *l = sessions; l != NULL; l = l->next)
    odd_wt_session_terminate (l->data);
  maybe_finish_drain (self);
}

gboolean
odd_web_terminal_drain_finish (OddWebTerminal  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
