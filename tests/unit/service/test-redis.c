#include <string.h>
#include "odd-redis.h"

static const char *
redis_url (void)
{
  const char *url = g_getenv ("ODD_TEST_REDIS_URL");

  if (url == NULL || *url == '\0')
    {
      g_test_skip ("ODD_TEST_REDIS_URL is not set");
      return NULL;
    }
  return url;
}

static void
test_url_errors (void)
{
  const char *bad[] = {
    "http://127.0.0.1:6379/0",
    "redis://127.0.0.1:6379/abc",
    "redis:///0",
    "redis://127.0.0.1:1/0",  /* nothing listens on port 1 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(redisContext) ctx = odd_redis_connect (bad[i], &error);

      g_assert_null (ctx);
      g_assert_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT);
    }
}

static void
test_commands (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(redisContext) ctx = NULL;
  g_autoptr(redisReply) set = NULL;
  g_autoptr(redisReply) get = NULL;
  g_autoptr(redisReply) info = NULL;
  g_autoptr(redisReply) argv_reply = NULL;
  redisReply *bad;
  const char *argv[] = { "SET", "odd:test:bin", "a\0b" };
  size_t argvlen[] = { 3, 12, 3 };
  g_autoptr(GUri) uri = NULL;
  g_autofree char *db = NULL;

  if (redis_url () == NULL)
    return;
  ctx = odd_redis_connect (redis_url (), &error);
  g_assert_no_error (error);

  set = odd_redis_command (ctx, &error, "SET %s %s", "odd:test:key", "value 1");
  g_assert_no_error (error);
  get = odd_redis_command (ctx, &error, "GET %s", "odd:test:key");
  g_assert_no_error (error);
  g_assert_cmpint (get->type, ==, REDIS_REPLY_STRING);
  g_assert_cmpstr (get->str, ==, "value 1");

  argv_reply = odd_redis_command_argv (ctx, 3, argv, argvlen, &error);
  g_assert_no_error (error);

  /* INCR on a non-integer: a reply error, and the connection stays usable */
  bad = odd_redis_command (ctx, &error, "INCR %s", "odd:test:key");
  g_assert_null (bad);
  g_assert_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_REPLY);
  g_assert_nonnull (strstr (error->message, "not an integer"));
  g_clear_error (&error);
  g_assert_cmpint (ctx->err, ==, 0);

  /* the URL's database was selected */
  uri = g_uri_parse (redis_url (), G_URI_FLAGS_NONE, NULL);
  db = g_strdup (g_uri_get_path (uri)[0] == '/' && g_uri_get_path (uri)[1] ? g_uri_get_path (uri) + 1 : "0");
  info = odd_redis_command (ctx, &error, "CLIENT INFO");
  g_assert_no_error (error);
  {
    g_autofree char *needle = g_strdup_printf (" db=%s ", db);

    g_assert_nonnull (strstr (info->str, needle));
  }

  g_clear_pointer (&set, freeReplyObject);
  set = odd_redis_command (ctx, NULL, "DEL odd:test:key odd:test:bin");
  g_assert_nonnull (set);
}

static void
test_host_port_and_auth (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *wrong_auth = NULL;
  g_autoptr(redisContext) ctx = NULL;
  g_autoptr(redisContext) refused = NULL;
  g_autoptr(redisReply) pong = NULL;

  if (redis_url () == NULL)
    return;
  uri = g_uri_parse (redis_url (), G_URI_FLAGS_NONE, NULL);
  plain = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  ctx = odd_redis_connect (plain, &error);
  g_assert_no_error (error);
  pong = odd_redis_command (ctx, &error, "PING");
  g_assert_no_error (error);
  g_assert_cmpstr (pong->str, ==, "PONG");

  /* the test server has no password: AUTH is refused, and that is a connect error */
  wrong_auth = g_strdup_printf ("redis://:wrong@%s:%d/0", g_uri_get_host (uri), g_uri_get_port (uri));
  refused = odd_redis_connect (wrong_auth, &error);
  g_assert_null (refused);
  g_assert_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT);
  g_assert_nonnull (strstr (error->message, "authentication"));
}

static gpointer
other_thread_conn (gpointer data)
{
  return odd_redis_thread_conn (data, NULL);
}

static void
test_thread_conn (void)
{
  g_autoptr(GError) error = NULL;
  redisContext *a, *b, *c;
  g_autoptr(redisReply) reply = NULL;

  if (redis_url () == NULL)
    return;
  a = odd_redis_thread_conn (redis_url (), &error);
  g_assert_no_error (error);
  b = odd_redis_thread_conn (redis_url (), &error);
  g_assert_true (a == b);
  c = g_thread_join (g_thread_new ("other", other_thread_conn, (gpointer) redis_url ()));
  g_assert_nonnull (c);
  g_assert_true (c != a);

  /* a broken context is replaced */
  a->err = REDIS_ERR_EOF;
  b = odd_redis_thread_conn (redis_url (), &error);
  g_assert_no_error (error);
  reply = odd_redis_command (b, &error, "PING");
  g_assert_no_error (error);
}

static void
test_thread_conn_killed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(redisContext) admin = NULL;
  g_autoptr(redisReply) id = NULL;
  g_autoptr(redisReply) kill = NULL;
  g_autoptr(redisReply) pong = NULL;
  redisContext *ctx;
  redisReply *lost;

  if (redis_url () == NULL)
    return;
  ctx = odd_redis_thread_conn (redis_url (), &error);
  g_assert_no_error (error);
  id = odd_redis_command (ctx, &error, "CLIENT ID");
  g_assert_no_error (error);

  admin = odd_redis_connect (redis_url (), &error);
  g_assert_no_error (error);
  kill = odd_redis_command (admin, &error, "CLIENT KILL ID %lld", id->integer);
  g_assert_no_error (error);

  lost = odd_redis_command (ctx, &error, "PING");
  g_assert_null (lost);
  g_assert_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_IO);
  g_clear_error (&error);

  ctx = odd_redis_thread_conn (redis_url (), &error);
  g_assert_no_error (error);
  pong = odd_redis_command (ctx, &error, "PING");
  g_assert_no_error (error);
  g_assert_cmpstr (pong->str, ==, "PONG");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/redis/url-errors", test_url_errors);
  g_test_add_func ("/redis/commands", test_commands);
  g_test_add_func ("/redis/host-port-and-auth", test_host_port_and_auth);
  g_test_add_func ("/redis/thread-conn", test_thread_conn);
  g_test_add_func ("/redis/thread-conn-killed", test_thread_conn_killed);
  return g_test_run ();
}
