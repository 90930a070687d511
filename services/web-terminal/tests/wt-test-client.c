/* wt-test-client.c: a WebSocket client and an in-process server for the web terminal's tests */
#include "wt-test-client.h"
#include "odd-json.h"

#include <stdlib.h>
#include <string.h>

static gboolean
on_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
wt_test_wait (gboolean (*done) (gpointer data),
              gpointer   data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WT_TEST_TIMEOUT_S, on_timeout, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return !timed_out;
}

void
wt_test_spin (guint ms)
{
  gboolean timed_out = FALSE;

  g_timeout_add (ms, on_timeout, &timed_out);
  while (!timed_out)
    g_main_context_iteration (NULL, TRUE);
}

/* The settings a test names, applied to a configuration read from the environment: setenv()
 * while libsoup's and GLib's threads may read the environment is a crash waiting to happen. */
static void
apply_setting (OddWtConfig *config,
               const char  *name,
               const char  *value)
{
  g_autoptr(GError) error = NULL;

  if (strcmp (name, "ODD_WEB_TERMINAL_COMMAND") == 0)
    {
      char *program;

      g_strfreev (config->command);
      g_assert_true (g_shell_parse_argv (value, NULL, &config->command, &error));
      program = g_find_program_in_path (config->command[0]);
      g_assert_nonnull (program);
      g_free (config->command[0]);
      config->command[0] = program;
    }
  else if (strcmp (name, "ODD_WT_TOKEN") == 0)
    {
      g_free (config->token);
      config->token = g_strdup (value);
    }
  else if (strcmp (name, "ODD_WT_READ_ONLY") == 0)
    config->read_only = strcmp (value, "1") == 0;
  else if (strcmp (name, "ODD_WT_FAULTS") == 0)
    config->faults = strcmp (value, "1") == 0;
  else if (strcmp (name, "ODD_WT_PER_CLIENT_CAP") == 0)
    config->per_client_cap = atoi (value);
  else if (strcmp (name, "ODD_WT_GLOBAL_CAP") == 0)
    config->global_cap = atoi (value);
  else if (strcmp (name, "ODD_WT_IDLE_TIMEOUT_S") == 0)
    config->idle_timeout_s = atoi (value);
  else if (strcmp (name, "ODD_WT_HANDSHAKE_S") == 0)
    config->handshake_s = atoi (value);
  else if (strcmp (name, "ODD_WT_GRACE_S") == 0)
    config->grace_s = atoi (value);
  else if (strcmp (name, "ODD_WT_QUEUE_BYTES") == 0)
    config->queue_bytes = atoi (value);
  else if (strcmp (name, "ODD_WT_TRUSTED_PROXIES") == 0)
    {
      GInetAddressMask *mask = g_inet_address_mask_new_from_string (value, &error);

      g_assert_no_error (error);
      g_ptr_array_add (config->trusted_proxies, mask);
    }
  else
    g_error ("wt_test_server_new: no setting %s", name);
}

OddWebTerminal *
wt_test_server_new (const char *first_name,
                    ...)
{
  g_autoptr(GError) error = NULL;
  OddWtConfig *config = odd_wt_config_new_from_env (&error);
  OddWebTerminal *server;
  va_list args;

  g_assert_no_error (error);
  va_start (args, first_name);
  for (const char *name = first_name; name != NULL; name = va_arg (args, const char *))
    apply_setting (config, name, va_arg (args, const char *));
  va_end (args);

  server = odd_web_terminal_new (config, &error);
  g_assert_no_error (error);
  odd_web_terminal_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  return server;
}

guint
wt_test_server_port (OddWebTerminal *server)
{
  return odd_http_server_get_port (odd_web_terminal_get_server (server));
}

static void
on_message (SoupWebsocketConnection *conn,
            SoupWebsocketDataType    type,
            GBytes                  *message,
            gpointer                 user_data)
{
  WtTestClient *client = user_data;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = odd_json_parse (text, len, &error);
  JsonObject *object;

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  if (g_strcmp0 (odd_json_get_string (object, "type"), "output") == 0)
    g_string_append (client->output, odd_json_get_string (object, "data"));
  g_queue_push_tail (&client->frames, json_object_ref (object));
}

static void
on_closed (SoupWebsocketConnection *conn,
           gpointer                 user_data)
{
  WtTestClient *client = user_data;

  client->closed = TRUE;
  client->close_code = soup_websocket_connection_get_close_code (conn);
}

typedef struct {
  WtTestClient *client;
  GError       *error;
  gboolean      done;
} Connecting;

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Connecting *connecting = user_data;

  connecting->client->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                                    &connecting->error);
  connecting->done = TRUE;
}

static gboolean
is_connected (gpointer data)
{
  return ((Connecting *) data)->done;
}

WtTestClient *
wt_test_client_new (OddWebTerminal     *server,
                    const char         *query,
                    const char *const  *headers)
{
  WtTestClient *client = g_new0 (WtTestClient, 1);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/ws%s%s", wt_test_server_port (server),
                                          query != NULL ? "?" : "", query != NULL ? query : "");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  Connecting connecting = { client, NULL, FALSE };

  g_queue_init (&client->frames);
  client->output = g_string_new (NULL);
  for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
    soup_message_headers_append (soup_message_get_request_headers (msg), headers[i], headers[i + 1]);

  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, &connecting);
  g_assert_true (wt_test_wait (is_connected, &connecting));
  g_assert_no_error (connecting.error);
  soup_websocket_connection_set_max_incoming_payload_size (client->conn, 16 * 1024 * 1024);
  g_signal_connect (client->conn, "message", G_CALLBACK (on_message), client);
  g_signal_connect (client->conn, "closed", G_CALLBACK (on_closed), client);
  return client;
}

static gboolean
is_closed (gpointer data)
{
  return ((WtTestClient *) data)->closed;
}

void
wt_test_client_free (WtTestClient *client)
{
  if (client->conn != NULL)
    {
      if (soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      wt_test_wait (is_closed, client);
      g_signal_handlers_disconnect_by_data (client->conn, client);
      g_object_unref (client->conn);
    }
  g_queue_clear_full (&client->frames, (GDestroyNotify) json_object_unref);
  g_string_free (client->output, TRUE);
  g_free (client);
}

void
wt_test_client_send (WtTestClient *client,
                     const char   *format,
                     ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  soup_websocket_connection_send_text (client->conn, text);
}

typedef struct {
  WtTestClient *client;
  const char   *type;
  JsonObject   *found;
} Expecting;

static gboolean
has_frame (gpointer data)
{
  Expecting *expecting = data;
  JsonObject *object;

  while ((object = g_queue_pop_head (&expecting->client->frames)) != NULL)
    {
      if (g_strcmp0 (odd_json_get_string (object, "type"), expecting->type) == 0)
        {
          expecting->found = object;
          return TRUE;
        }
      json_object_unref (object);
    }
  return expecting->client->closed;
}

JsonObject *
wt_test_client_expect (WtTestClient *client,
                       const char   *type)
{
  Expecting expecting = { client, type, NULL };

  if (!wt_test_wait (has_frame, &expecting) || expecting.found == NULL)
    g_error ("No %s frame came (closed: %d, output so far: %s)", type, client->closed,
             client->output->str);
  return expecting.found;
}

typedef struct {
  WtTestClient *client;
  const char   *text;
} WaitingOutput;

static gboolean
has_output (gpointer data)
{
  WaitingOutput *waiting = data;

  return strstr (waiting->client->output->str, waiting->text) != NULL || waiting->client->closed;
}

void
wt_test_client_wait_output (WtTestClient *client,
                            const char   *text)
{
  WaitingOutput waiting = { client, text };

  wt_test_wait (has_output, &waiting);
  if (strstr (client->output->str, text) == NULL)
    g_error ("\"%s\" never came; the output was: %s", text, client->output->str);
}

void
wt_test_client_wait_closed (WtTestClient *client)
{
  g_assert_true (wt_test_wait (is_closed, client));
}

JsonObject *
wt_test_client_start (WtTestClient *client)
{
  g_autoptr(JsonObject) hello = wt_test_client_expect (client, "hello");

  wt_test_client_send (client, "{\"type\":\"start\",\"cols\":80,\"rows\":24}");
  return wt_test_client_expect (client, "session");
}
