/* test-web-terminal.c: odd-web-terminal's sessions over real WebSockets and real PTYs
 *
 * The server runs in this process on a free port; each session runs a small program (cat, a
 * shell that prints its size on SIGWINCH, yes) instead of odd-dashboard. */
#include "wt-test-client.h"
#include "odd-json.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* The trap is in single quotes so that stty runs at each SIGWINCH, not once at the start. */
#define WINCH_SHELL "sh -c \"trap 'echo size=\\$(stty size)' WINCH; echo ready; while :; do sleep 0.05; done\""

static const char *
string_of (JsonObject *object,
           const char *member)
{
  const char *value = odd_json_get_string (object, member);

  g_assert_nonnull (value);
  return value;
}

static void
expect_error (WtTestClient *client,
              const char   *code)
{
  g_autoptr(JsonObject) error = wt_test_client_expect (client, "error");

  g_assert_cmpstr (string_of (error, "code"), ==, code);
  g_assert_cmpuint (strlen (string_of (error, "message")), >, 0);
}

/* The connection still answers: a ping gets its pong. */
static void
assert_alive (WtTestClient *client)
{
  g_autoptr(JsonObject) pong = NULL;

  wt_test_client_send (client, "{\"type\":\"ping\"}");
  pong = wt_test_client_expect (client, "pong");
  g_assert_false (client->closed);
}

static gboolean
no_sessions (gpointer data)
{
  return odd_web_terminal_n_sessions (data) == 0;
}

static void
test_type_and_echo (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) session = wt_test_client_start (client);

  g_assert_true (g_uuid_string_is_valid (string_of (session, "sessionId")));
  g_assert_cmpuint (strlen (string_of (session, "reconnectToken")), ==, 43);
  g_assert_cmpint (json_object_get_int_member (session, "cols"), ==, 80);

  /* Multibyte text both ways. */
  wt_test_client_send (client, "{\"type\":\"input\",\"data\":\"h\\u00e9llo \\u2713\\r\"}");
  wt_test_client_wait_output (client, "h\xC3\xA9llo \xE2\x9C\x93");
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 1);
}

static void
test_resize (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", WINCH_SHELL, NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) session = wt_test_client_start (client);

  wt_test_client_wait_output (client, "ready");
  wt_test_client_send (client, "{\"type\":\"resize\",\"cols\":132,\"rows\":43}");
  wt_test_client_wait_output (client, "size=43 132");

  /* Out of bounds: refused, the size stays. */
  wt_test_client_send (client, "{\"type\":\"resize\",\"cols\":501,\"rows\":43}");
  expect_error (client, "BAD_FRAME");
  wt_test_client_send (client, "{\"type\":\"resize\",\"cols\":20,\"rows\":5}");
  wt_test_client_wait_output (client, "size=5 20");
}

static void
test_reconnect (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND",
                                                         "sh -c 'echo pid=$$; exec cat'", NULL);
  g_autoptr(WtTestClient) first = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) session = wt_test_client_start (first);
  g_autofree char *id = g_strdup (string_of (session, "sessionId"));
  g_autofree char *token = g_strdup (string_of (session, "reconnectToken"));
  g_autoptr(WtTestClient) second = NULL;
  g_autoptr(WtTestClient) reused = NULL;
  g_autoptr(WtTestClient) third = NULL;
  g_autoptr(JsonObject) hello = NULL;
  g_autoptr(JsonObject) reconnected = NULL;
  g_autoptr(JsonObject) again = NULL;
  const char *pid_line;
  g_autofree char *pid = NULL;

  wt_test_client_wait_output (first, "pid=");
  wt_test_client_send (first, "{\"type\":\"input\",\"data\":\"before the reload\\r\"}");
  wt_test_client_wait_output (first, "before the reload\r\nbefore the reload");
  pid_line = strstr (first->output->str, "pid=");
  pid = g_strndup (pid_line, strcspn (pid_line, "\r\n"));

  /* The tab goes away; the session waits. */
  g_clear_pointer (&first, wt_test_client_free);
  wt_test_spin (100);
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 1);

  second = wt_test_client_new (server, NULL, NULL);
  hello = wt_test_client_expect (second, "hello");
  wt_test_client_send (second, "{\"type\":\"reconnect\",\"session\":\"%s\",\"token\":\"%s\",\"cols\":90,\"rows\":30}",
                       id, token);
  reconnected = wt_test_client_expect (second, "reconnected");
  g_assert_cmpstr (string_of (reconnected, "sessionId"), ==, id);
  /* Rotated on use. */
  g_assert_cmpstr (string_of (reconnected, "reconnectToken"), !=, token);
  g_assert_cmpint (json_object_get_int_member (reconnected, "cols"), ==, 90);

  /* The replay: the same program's screen, not a new program. */
  wt_test_client_wait_output (second, "before the reload");
  g_assert_nonnull (strstr (second->output->str, pid));
  wt_test_client_send (second, "{\"type\":\"input\",\"data\":\"after\\r\"}");
  wt_test_client_wait_output (second, "after\r\nafter");
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 1);

  /* The first token was used: refused, and the session is untouched. */
  reused = wt_test_client_new (server, NULL, NULL);
  g_clear_pointer (&hello, json_object_unref);
  hello = wt_test_client_expect (reused, "hello");
  wt_test_client_send (reused, "{\"type\":\"reconnect\",\"session\":\"%s\",\"token\":\"%s\"}", id, token);
  expect_error (reused, "INVALID_TOKEN");
  wt_test_client_wait_closed (reused);
  g_assert_false (second->closed);

  /* The new token works, and the newest tab takes the session over. */
  third = wt_test_client_new (server, NULL, NULL);
  g_clear_pointer (&hello, json_object_unref);
  hello = wt_test_client_expect (third, "hello");
  wt_test_client_send (third, "{\"type\":\"reconnect\",\"session\":\"%s\",\"token\":\"%s\"}",
                       id, string_of (reconnected, "reconnectToken"));
  again = wt_test_client_expect (third, "reconnected");
  wt_test_client_wait_closed (second);
  wt_test_client_wait_output (third, "after");
}

static void
test_unknown_session (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) hello = wt_test_client_expect (client, "hello");
  g_autofree char *id = g_uuid_string_random ();

  wt_test_client_send (client, "{\"type\":\"reconnect\",\"session\":\"%s\",\"token\":\"%s\"}",
                       id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  expect_error (client, "INVALID_TOKEN");
  wt_test_client_wait_closed (client);
}

static void
test_caps (void)
{
  const char *const forwarded[] = { "X-Forwarded-For", "203.0.113.7, 127.0.0.1", NULL };
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat",
                                                         "ODD_WT_PER_CLIENT_CAP", "2",
                                                         "ODD_WT_GLOBAL_CAP", "3",
                                                         "ODD_WT_TRUSTED_PROXIES", "127.0.0.1/32",
                                                         NULL);
  g_autoptr(WtTestClient) a = wt_test_client_new (server, NULL, NULL);
  g_autoptr(WtTestClient) b = wt_test_client_new (server, NULL, NULL);
  g_autoptr(WtTestClient) c = wt_test_client_new (server, NULL, NULL);
  g_autoptr(WtTestClient) proxied = wt_test_client_new (server, NULL, forwarded);
  g_autoptr(WtTestClient) proxied_again = wt_test_client_new (server, NULL, forwarded);
  g_autoptr(JsonObject) sa = wt_test_client_start (a);
  g_autoptr(JsonObject) sb = wt_test_client_start (b);
  g_autoptr(JsonObject) hello = wt_test_client_expect (c, "hello");
  g_autoptr(JsonObject) sp = NULL;

  wt_test_client_send (c, "{\"type\":\"start\"}");
  expect_error (c, "PER_CLIENT_CAP");
  wt_test_client_wait_closed (c);

  /* Behind a trusted proxy the client is the one it names, with a cap of its own... */
  sp = wt_test_client_start (proxied);
  /* ...and the server's cap holds over all. */
  g_clear_pointer (&hello, json_object_unref);
  hello = wt_test_client_expect (proxied_again, "hello");
  wt_test_client_send (proxied_again, "{\"type\":\"start\"}");
  expect_error (proxied_again, "GLOBAL_CAP");
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 3);
}

/* Connections that sit there without a session are bounded as well. */
static void
test_connection_cap (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat",
                                                         "ODD_WT_PER_CLIENT_CAP", "1", NULL);
  g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func ((GDestroyNotify) wt_test_client_free);
  g_autoptr(WtTestClient) one_too_many = NULL;

  for (guint i = 0; i < 2; i++)
    {
      WtTestClient *client = wt_test_client_new (server, NULL, NULL);
      g_autoptr(JsonObject) hello = wt_test_client_expect (client, "hello");

      g_ptr_array_add (idle, client);
    }
  one_too_many = wt_test_client_new (server, NULL, NULL);
  expect_error (one_too_many, "PER_CLIENT_CAP");
  wt_test_client_wait_closed (one_too_many);
}

static void
test_untrusted_forwarded_for (void)
{
  const char *const forwarded[] = { "X-Forwarded-For", "203.0.113.7", NULL };
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat",
                                                         "ODD_WT_PER_CLIENT_CAP", "1", NULL);
  g_autoptr(WtTestClient) a = wt_test_client_new (server, NULL, NULL);
  g_autoptr(WtTestClient) spoofing = wt_test_client_new (server, NULL, forwarded);
  g_autoptr(JsonObject) sa = wt_test_client_start (a);
  g_autoptr(JsonObject) hello = wt_test_client_expect (spoofing, "hello");

  /* Anyone can write the header: from a peer that is not a trusted proxy it counts for nothing. */
  wt_test_client_send (spoofing, "{\"type\":\"start\"}");
  expect_error (spoofing, "PER_CLIENT_CAP");
}

static void
test_idle_timeout (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat",
                                                         "ODD_WT_IDLE_TIMEOUT_S", "1", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) session = wt_test_client_start (client);

  expect_error (client, "IDLE_TIMEOUT");
  wt_test_client_wait_closed (client);
  g_assert_true (wt_test_wait (no_sessions, server));
}

/* A connection that neither starts nor resumes a session is closed. */
static void
test_handshake_timeout (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WT_HANDSHAKE_S", "1", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) hello = wt_test_client_expect (client, "hello");

  /* Pings are no session. */
  assert_alive (client);
  expect_error (client, "HANDSHAKE_TIMEOUT");
  wt_test_client_wait_closed (client);
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 0);
}

static void
test_grace (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat",
                                                         "ODD_WT_GRACE_S", "1", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) session = wt_test_client_start (client);
  g_autoptr(WtTestClient) late = NULL;
  g_autoptr(JsonObject) hello = NULL;

  g_clear_pointer (&client, wt_test_client_free);
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 1);
  g_assert_true (wt_test_wait (no_sessions, server));

  late = wt_test_client_new (server, NULL, NULL);
  hello = wt_test_client_expect (late, "hello");
  wt_test_client_send (late, "{\"type\":\"reconnect\",\"session\":\"%s\",\"token\":\"%s\"}",
                       string_of (session, "sessionId"), string_of (session, "reconnectToken"));
  expect_error (late, "INVALID_TOKEN");
}

static void
test_exit (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND",
                                                         "sh -c 'echo goodbye; exit 3'", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) session = wt_test_client_start (client);
  g_autoptr(JsonObject) exited = wt_test_client_expect (client, "exit");

  g_assert_cmpint (json_object_get_int_member (exited, "status"), ==, 3);
  g_assert_nonnull (strstr (client->output->str, "goodbye"));
  wt_test_client_wait_closed (client);
  g_assert_true (wt_test_wait (no_sessions, server));
}

/* A program that leaves a child printing forever (deaf to SIGHUP) still ends its session. */
static void
test_leftover_child (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND",
                                                         "sh -c 'trap \"\" HUP; yes leftover & sleep 0.3; exit 4'",
                                                         NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) session = wt_test_client_start (client);
  g_autoptr(JsonObject) exited = wt_test_client_expect (client, "exit");

  g_assert_cmpint (json_object_get_int_member (exited, "status"), ==, 4);
  g_assert_nonnull (strstr (client->output->str, "leftover"));
  g_assert_true (wt_test_wait (no_sessions, server));
}

static void
test_bad_frames (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) hello = wt_test_client_expect (client, "hello");
  g_autoptr(JsonObject) session = NULL;
  g_autoptr(GString) huge = g_string_new ("{\"type\":\"input\",\"data\":\"");
  const char *const bad[] = {
    "not json at all",
    "[1, 2, 3]",
    "{\"data\":\"no type\"}",
    "{\"type\":\"paste\",\"data\":\"x\"}",
    "{\"type\":\"input\",\"data\":\"x\",\"extra\":true}",
    "{\"type\":\"input\"}",
    "{\"type\":\"input\",\"data\":\"x\"}",   /* before start */
    "{\"type\":\"resize\",\"cols\":\"80\",\"rows\":24}",
    "{\"type\":\"reconnect\",\"session\":\"../../etc\",\"token\":\"x\"}",
    "{\"type\":\"input\",\"data\":\"\\ud800\"}",
    "{\"type\":",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      wt_test_client_send (client, "%s", bad[i]);
      expect_error (client, "BAD_FRAME");
    }
  assert_alive (client);

  soup_websocket_connection_send_binary (client->conn, "\x00\x01\x02", 3);
  expect_error (client, "BAD_FRAME");

  assert_alive (client);
  wt_test_client_send (client, "{\"type\":\"start\"}");
  session = wt_test_client_expect (client, "session");
  for (gsize i = 0; i < 200 * 1024; i++)
    g_string_append_c (huge, 'x');
  g_string_append (huge, "\"}");
  wt_test_client_send (client, "%s", huge->str);
  expect_error (client, "BAD_FRAME");

  /* Still the same session, still working. */
  wt_test_client_send (client, "{\"type\":\"input\",\"data\":\"still here\\r\"}");
  wt_test_client_wait_output (client, "still here\r\nstill here");
}

static void
test_auth_by_frame (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat",
                                                         "ODD_WT_TOKEN", "s3cret-token", NULL);
  g_autoptr(WtTestClient) none = wt_test_client_new (server, NULL, NULL);
  g_autoptr(WtTestClient) wrong = wt_test_client_new (server, NULL, NULL);
  g_autoptr(WtTestClient) right = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) hello = wt_test_client_expect (none, "hello");
  g_autoptr(JsonObject) hello_wrong = wt_test_client_expect (wrong, "hello");
  g_autoptr(JsonObject) hello_right = wt_test_client_expect (right, "hello");
  g_autoptr(JsonObject) session = NULL;

  g_assert_true (json_object_get_boolean_member (hello, "authRequired"));

  wt_test_client_send (none, "{\"type\":\"start\"}");
  expect_error (none, "AUTH_REQUIRED");
  wt_test_client_wait_closed (none);

  wt_test_client_send (wrong, "{\"type\":\"auth\",\"token\":\"s3cret-tokem\"}");
  expect_error (wrong, "AUTH_FAILED");
  wt_test_client_wait_closed (wrong);

  wt_test_client_send (right, "{\"type\":\"auth\",\"token\":\"s3cret-token\"}");
  wt_test_client_send (right, "{\"type\":\"start\"}");
  session = wt_test_client_expect (right, "session");
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 1);
}

static void
test_auth_by_header (void)
{
  const char *const good[] = { "Authorization", "Bearer s3cret-token", NULL };
  const char *const bad[] = { "Authorization", "Bearer s3cret", NULL };
  const char *const basic[] = { "Authorization", "Basic czNjcmV0LXRva2Vu", NULL };
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat",
                                                         "ODD_WT_TOKEN", "s3cret-token", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, good);
  g_autoptr(WtTestClient) refused = wt_test_client_new (server, NULL, bad);
  g_autoptr(WtTestClient) other_scheme = wt_test_client_new (server, NULL, basic);
  g_autoptr(JsonObject) hello = wt_test_client_expect (client, "hello");
  g_autoptr(JsonObject) session = NULL;

  g_assert_false (json_object_get_boolean_member (hello, "authRequired"));
  wt_test_client_send (client, "{\"type\":\"start\"}");
  session = wt_test_client_expect (client, "session");

  expect_error (refused, "AUTH_FAILED");
  wt_test_client_wait_closed (refused);
  expect_error (other_scheme, "AUTH_FAILED");
}

static void
test_origin (void)
{
  const char *const foreign[] = { "Origin", "http://evil.example", NULL };
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat", NULL);
  g_autofree char *own_origin = g_strdup_printf ("http://127.0.0.1:%u", wt_test_server_port (server));
  const char *const own[] = { "Origin", own_origin, NULL };
  g_autoptr(WtTestClient) evil = wt_test_client_new (server, NULL, foreign);
  g_autoptr(WtTestClient) page = wt_test_client_new (server, NULL, own);
  g_autoptr(JsonObject) session = NULL;

  expect_error (evil, "ORIGIN_FORBIDDEN");
  wt_test_client_wait_closed (evil);
  session = wt_test_client_start (page);
}

static void
test_read_only (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", WINCH_SHELL,
                                                         "ODD_WT_READ_ONLY", "1", NULL);
  g_autoptr(WtTestClient) client = wt_test_client_new (server, NULL, NULL);
  g_autoptr(JsonObject) hello = wt_test_client_expect (client, "hello");
  g_autoptr(JsonObject) session = NULL;
  g_autoptr(JsonObject) notice = NULL;
  g_autoptr(JsonObject) dropped = NULL;

  g_assert_true (json_object_get_boolean_member (hello, "readOnly"));
  wt_test_client_send (client, "{\"type\":\"start\"}");
  session = wt_test_client_expect (client, "session");
  notice = wt_test_client_expect (client, "notice");
  wt_test_client_wait_output (client, "ready");

  /* A key and a paste, then a resize: a PTY is in order, so had the input been written, its
   * echo would come before the new size. */
  wt_test_client_send (client, "{\"type\":\"input\",\"data\":\"q\"}");
  wt_test_client_send (client, "{\"type\":\"input\",\"data\":\"pasted text\\rmore\\r\"}");
  dropped = wt_test_client_expect (client, "notice");
  g_assert_nonnull (strstr (string_of (dropped, "message"), "Read-only"));
  wt_test_client_send (client, "{\"type\":\"resize\",\"cols\":100,\"rows\":30}");
  wt_test_client_wait_output (client, "size=30 100");
  g_assert_null (strstr (client->output->str, "pasted"));
  g_assert_null (strstr (client->output->str, "q"));
}

static void
test_faults (void)
{
  g_autoptr(OddWebTerminal) plain = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat", NULL);
  g_autoptr(OddWebTerminal) faulty = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat",
                                                         "ODD_WT_FAULTS", "1", NULL);
  g_autoptr(WtTestClient) ignored = wt_test_client_new (plain, "fault=reject", NULL);
  g_autoptr(WtTestClient) rejected = wt_test_client_new (faulty, "fault=reject", NULL);
  g_autoptr(WtTestClient) no_spawn = wt_test_client_new (faulty, "fault=spawn", NULL);
  g_autoptr(JsonObject) session = wt_test_client_start (ignored);
  g_autoptr(JsonObject) hello = NULL;

  /* Off unless the server was started with ODD_WT_FAULTS=1. */
  expect_error (rejected, "INTERNAL_ERROR");
  hello = wt_test_client_expect (no_spawn, "hello");
  wt_test_client_send (no_spawn, "{\"type\":\"start\"}");
  expect_error (no_spawn, "PTY_SPAWN_FAILED");
  g_assert_cmpuint (odd_web_terminal_n_sessions (faulty), ==, 0);
}

static void
on_drained (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  gboolean *drained = user_data;
  g_autoptr(GError) error = NULL;

  *drained = odd_web_terminal_drain_finish (ODD_WEB_TERMINAL (source), result, &error);
  g_assert_no_error (error);
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

/* SIGTERM: every browser hears it, every program is hung up, then the drain is done. */
static void
test_drain (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "cat", NULL);
  g_autoptr(WtTestClient) attached = wt_test_client_new (server, NULL, NULL);
  g_autoptr(WtTestClient) detached = wt_test_client_new (server, NULL, NULL);
  g_autoptr(WtTestClient) late = NULL;
  g_autoptr(JsonObject) first = wt_test_client_start (attached);
  g_autoptr(JsonObject) second = wt_test_client_start (detached);
  g_autoptr(JsonObject) notice = NULL;
  g_autoptr(JsonObject) hello = NULL;
  gboolean drained = FALSE;

  g_clear_pointer (&detached, wt_test_client_free);
  late = wt_test_client_new (server, NULL, NULL);
  hello = wt_test_client_expect (late, "hello");
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 2);

  odd_web_terminal_drain_async (server, NULL, on_drained, &drained);
  notice = wt_test_client_expect (attached, "notice");
  g_assert_nonnull (strstr (string_of (notice, "message"), "stopping"));
  wt_test_client_wait_closed (attached);
  g_assert_true (wt_test_wait (is_true, &drained));
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 0);
  wt_test_client_wait_closed (late);
}

/* A client that stops reading: a raw socket with a tiny receive buffer. */

static GSocket *
raw_connect (guint port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autofree char *request = g_strdup_printf ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                              "Sec-WebSocket-Version: 13\r\n\r\n", port);
  /* A masked text frame: {"type":"start"} */
  const char *start = "{\"type\":\"start\"}";
  guint8 frame[64] = { 0x81, 0x80 | 16, 1, 2, 3, 4 };

  g_assert_no_error (error);
  g_assert_true (g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 4096, &error));
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_socket_send (socket, request, strlen (request), NULL, &error), ==, strlen (request));
  for (guint i = 0; i < 16; i++)
    frame[6 + i] = start[i] ^ frame[2 + i % 4];
  g_assert_cmpint (g_socket_send (socket, (char *) frame, 22, NULL, &error), ==, 22);
  return g_steal_pointer (&socket);
}

static double
metric (OddWebTerminal *server,
        const char     *sample)
{
  g_autofree char *text = odd_metrics_render (odd_http_server_get_metrics (odd_web_terminal_get_server (server)));
  const char *line = strstr (text, sample);

  return line != NULL ? g_ascii_strtod (line + strlen (sample), NULL) : 0;
}

#define OUT_BYTES "web_terminal_bytes_total{service=\"web-terminal\",direction=\"out\"} "
#define PAUSED "web_terminal_output_paused_total{service=\"web-terminal\"} "

typedef struct {
  OddWebTerminal *server;
  double          at_least;
} MetricWait;

static gboolean
paused_at_least (gpointer data)
{
  MetricWait *wait = data;

  return metric (wait->server, PAUSED) >= wait->at_least;
}

static gboolean
out_beyond (gpointer data)
{
  MetricWait *wait = data;

  return metric (wait->server, OUT_BYTES) > wait->at_least;
}

static void
test_slow_reader (void)
{
  g_autoptr(OddWebTerminal) server = wt_test_server_new ("ODD_WEB_TERMINAL_COMMAND", "yes 0123456789abcdef",
                                                         "ODD_WT_QUEUE_BYTES", "65536", NULL);
  g_autoptr(GSocket) socket = raw_connect (wt_test_server_port (server));
  MetricWait wait = { server, 1 };
  double out;
  char buffer[65536];
  gssize n;

  /* The server stops reading the PTY (yes then blocks on its writes)... */
  g_assert_true (wt_test_wait (paused_at_least, &wait));
  out = metric (server, OUT_BYTES);
  wt_test_spin (500);
  g_assert_cmpfloat (metric (server, OUT_BYTES), ==, out);
  /* ...having read a bounded amount: the bound, a read, and the sockets' small buffers. */
  g_assert_cmpfloat (out, <, 4 * 1024 * 1024);
  g_assert_cmpuint (odd_web_terminal_n_sessions (server), ==, 1);

  /* Reading again resumes it. */
  g_socket_set_blocking (socket, FALSE);
  wait.at_least = out;
  for (guint i = 0; i < 200 && !out_beyond (&wait); i++)
    {
      while ((n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL)) > 0)
        ;
      wt_test_spin (20);
    }
  g_assert_cmpfloat (metric (server, OUT_BYTES), >, out);
  g_socket_close (socket, NULL);
  (void) n;
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* Before any thread: the tests never change the environment afterwards. */
  g_setenv ("ODD_WEB_TERMINAL_COMMAND", "cat", TRUE);

  g_test_add_func ("/web-terminal/type-and-echo", test_type_and_echo);
  g_test_add_func ("/web-terminal/resize", test_resize);
  g_test_add_func ("/web-terminal/reconnect", test_reconnect);
  g_test_add_func ("/web-terminal/unknown-session", test_unknown_session);
  g_test_add_func ("/web-terminal/caps", test_caps);
  g_test_add_func ("/web-terminal/untrusted-forwarded-for", test_untrusted_forwarded_for);
  g_test_add_func ("/web-terminal/connection-cap", test_connection_cap);
  g_test_add_func ("/web-terminal/idle-timeout", test_idle_timeout);
  g_test_add_func ("/web-terminal/handshake-timeout", test_handshake_timeout);
  g_test_add_func ("/web-terminal/grace", test_grace);
  g_test_add_func ("/web-terminal/exit", test_exit);
  g_test_add_func ("/web-terminal/leftover-child", test_leftover_child);
  g_test_add_func ("/web-terminal/bad-frames", test_bad_frames);
  g_test_add_func ("/web-terminal/auth-by-frame", test_auth_by_frame);
  g_test_add_func ("/web-terminal/auth-by-header", test_auth_by_header);
  g_test_add_func ("/web-terminal/origin", test_origin);
  g_test_add_func ("/web-terminal/read-only", test_read_only);
  g_test_add_func ("/web-terminal/faults", test_faults);
  g_test_add_func ("/web-terminal/slow-reader", test_slow_reader);
  g_test_add_func ("/web-terminal/drain", test_drain);

  return g_test_run ();
}
