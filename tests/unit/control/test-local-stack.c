#define G_LOG_DOMAIN "odd-test"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <hiredis.h>
#include <libpq-fe.h>

#include "odd-test-stack.h"

/* One stack for the whole program: starting RabbitMQ alone takes seconds. Its state dir's
 * name is what a shell would run (the file named by $ODD_PWN) and holds quotes and
 * blanks: every test below runs with it, and nothing may run it. */
static OddTestStack *stack;
static char *pwned;

#define HOSTILE_PREFIX "odd $(touch \"$ODD_PWN\") `touch \"$ODD_PWN\"` 'q' \"dq\" "

static JsonObject *
find_status (JsonNode   *status,
             const char *name)
{
  JsonArray *components = json_object_get_array_member (json_node_get_object (status),
                                                         "components");

  for (guint i = 0; i < json_array_get_length (components); i++)
    {
      JsonObject *c = json_array_get_object_element (components, i);

      if (g_str_equal (json_object_get_string_member (c, "name"), name))
        return c;
    }

  g_assert_not_reached ();
}

static void
assert_all (gboolean healthy)
{
  g_autoptr(JsonNode) status = odd_local_stack_status (odd_test_stack_get_local_stack (stack),
                                                       NULL);
  const char * const *names = odd_local_stack_component_names ();

  for (guint i = 0; names[i] != NULL; i++)
    {
      JsonObject *c = find_status (status, names[i]);

      g_test_message ("%s: pid %s healthy %d", names[i],
                      json_object_get_null_member (c, "pid") ? "null" : "set",
                      json_object_get_boolean_member (c, "healthy"));
      g_assert_cmpint (json_object_get_boolean_member (c, "healthy"), ==, healthy);
      g_assert_cmpint (json_object_get_null_member (c, "pid"), ==, !healthy);
      g_assert_cmpint (json_object_get_int_member (c, "port"), >, 0);
    }
}

static void
pg_exec (const char *sql,
         char      **out_value)
{
  PGconn *conn = PQconnectdb (odd_test_stack_get_postgres_url (stack));
  PGresult *result;

  g_assert_cmpint (PQstatus (conn), ==, CONNECTION_OK);
  result = PQexec (conn, sql);
  g_assert_cmpint (PQresultStatus (result), !=, PGRES_FATAL_ERROR);
  if (out_value != NULL)
    *out_value = PQntuples (result) > 0 ? g_strdup (PQgetvalue (result, 0, 0)) : NULL;
  PQclear (result);
  PQfinish (conn);
}

static redisContext *
redis_connect (void)
{
  OddStackPaths *paths = odd_local_stack_get_paths (odd_test_stack_get_local_stack (stack));
  redisContext *redis = redisConnect ("127.0.0.1", odd_stack_paths_get_port (paths, ODD_PORT_REDIS));

  g_assert_nonnull (redis);
  g_assert_cmpint (redis->err, ==, 0);
  return redis;
}

static void
test_up_all_healthy (void)
{
  g_autoptr(GError) error = NULL;

  assert_all (TRUE);

  /* A second up changes nothing. */
  {
    GPid before = odd_test_stack_get_pid (stack, "gateway");

    g_assert_true (odd_test_stack_up (stack, &error));
    g_assert_no_error (error);
    g_assert_cmpint (odd_test_stack_get_pid (stack, "gateway"), ==, before);
  }
}

static void
test_crash_restarts_only_the_dead (void)
{
  const char * const *names = odd_local_stack_component_names ();
  g_autoptr(GHashTable) before = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  GPid old_processor;

  for (guint i = 0; names[i] != NULL; i++)
    {
      GPid pid = odd_test_stack_get_pid (stack, names[i]);

      g_assert_cmpint (pid, >, 0);
      g_hash_table_insert (before, (gpointer) names[i], GINT_TO_POINTER (pid));
    }

  old_processor = odd_test_stack_get_pid (stack, "processor");
  g_assert_true (odd_test_stack_kill (stack, "processor", SIGKILL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (odd_test_stack_get_pid (stack, "processor"), ==, 0);

  g_assert_true (odd_test_stack_up (stack, &error));
  g_assert_no_error (error);

  for (guint i = 0; names[i] != NULL; i++)
    {
      GPid pid = odd_test_stack_get_pid (stack, names[i]);

      g_assert_cmpint (pid, >, 0);
      if (g_str_equal (names[i], "processor"))
        g_assert_cmpint (pid, !=, old_processor);
      else
        g_assert_cmpint (pid, ==, GPOINTER_TO_INT (g_hash_table_lookup (before, names[i])));
    }
  assert_all (TRUE);
}

static void
test_down_up_keeps_data (void)
{
  OddLocalStack *local = odd_test_stack_get_local_stack (stack);
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;
  redisContext *redis;
  redisReply *reply;

  pg_exec ("CREATE TABLE IF NOT EXISTS local_stack_test (v text)", NULL);
  pg_exec ("INSERT INTO local_stack_test VALUES ('kept across down and up')", NULL);
  redis = redis_connect ();
  reply = redisCommand (redis, "SET local_stack_test kept");
  g_assert_nonnull (reply);
  freeReplyObject (reply);
  redisFree (redis);

  g_assert_true (odd_local_stack_down (local, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_all (FALSE);

  /* down twice is fine */
  g_assert_true (odd_local_stack_down (local, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (odd_test_stack_up (stack, &error));
  g_assert_no_error (error);
  assert_all (TRUE);

  pg_exec ("SELECT v FROM local_stack_test", &value);
  g_assert_cmpstr (value, ==, "kept across down and up");

  redis = redis_connect ();
  reply = redisCommand (redis, "GET local_stack_test");
  g_assert_nonnull (reply);
  g_assert_cmpint (reply->type, ==, REDIS_REPLY_STRING);
  g_assert_cmpstr (reply->str, ==, "kept");
  freeReplyObject (reply);
  redisFree (redis);
}

typedef struct
{
  GCancellable *cancellable;
  GThread      *thread;
  gboolean      done;
  gboolean      ok;
  GError       *error;
  guint         events;
} CancelRun;

static void
cancel_on_progress (const char        *step,
                    OddProgressStatus  status,
                    const char        *message,
                    double             fraction,
                    gpointer           user_data)
{
  CancelRun *run = user_data;

  /* Progress arrives on the caller's main context, never on the worker thread. */
  g_assert_true (g_thread_self () == run->thread);
  g_assert_false (run->done);
  g_assert_cmpfloat (fraction, >=, 0.0);
  g_assert_cmpfloat (fraction, <=, 1.0);
  run->events++;

  /* By now RabbitMQ and PostgreSQL have been launched: a cancel must stop them again. */
  if (status == ODD_PROGRESS_RUNNING && g_str_equal (step, "redis"))
    g_cancellable_cancel (run->cancellable);
}

static void
cancel_on_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  CancelRun *run = user_data;

  g_assert_true (g_thread_self () == run->thread);
  run->ok = odd_local_stack_up_finish (ODD_LOCAL_STACK (source), result, &run->error);
  run->done = TRUE;
}

static void
test_cancel_stops_what_it_started (void)
{
  OddLocalStack *local = odd_test_stack_get_local_stack (stack);
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  CancelRun run = { cancellable, g_thread_self (), FALSE, FALSE, NULL, 0 };

  g_assert_true (odd_local_stack_down (local, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  g_main_context_push_thread_default (context);
  odd_local_stack_up_async (local, cancellable, cancel_on_progress, &run, cancel_on_done, &run);
  while (!run.done)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  g_assert_false (run.ok);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&run.error);
  g_assert_cmpuint (run.events, >, 3);
  assert_all (FALSE);
}

static void
test_unknown_component (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (odd_test_stack_kill (stack, "nginx", SIGKILL, &error));
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID);
}

static void
test_start_failed (gconstpointer data)
{
  g_test_fail_printf ("cannot start the local stack: %s", (const char *) data);
}

/* pg_ctl -o ran the state dir through /bin/sh, and so does RabbitMQ's disk monitor (`df`):
 * a state dir of that name once ran its command. The same name through a shell does. */
static void
test_hostile_state_dir_runs_nothing (void)
{
  const char *state_dir = odd_test_stack_get_state_dir (stack);
  g_autofree char *quoted = NULL;
  g_autofree char *command = NULL;
  const char *data = odd_stack_paths_get_postgres_dir (
                       odd_local_stack_get_paths (odd_test_stack_get_local_stack (stack)));
  g_autoptr(GError) error = NULL;
  int status;

  g_assert_nonnull (strstr (state_dir, "$(touch"));
  /* Nothing did, while all started and answered (a disk check ran at RabbitMQ's start). */
  assert_all (TRUE);
  g_assert_false (g_file_test (pwned, G_FILE_TEST_EXISTS));
  /* As root PostgreSQL saw the name too (the state dir is open to it). */
  g_assert_true (g_str_has_prefix (data, state_dir));

  /* The check can fail: the same name, unquoted in a shell, makes the file. */
  command = g_strdup_printf ("/bin/sh -c 'true %s'", "$(touch \"$ODD_PWN\")");
  g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (pwned, G_FILE_TEST_EXISTS));
  g_unlink (pwned);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  pwned = g_strdup_printf ("%s/odd-test-pwned-%d", g_get_tmp_dir (), (int) getpid ());
  g_unlink (pwned);
  g_setenv ("ODD_PWN", pwned, TRUE);
  stack = odd_test_stack_start_named (HOSTILE_PREFIX, &error);
  if (stack == NULL)
    {
      /* Nothing to run against: one failing test that says why (a missing service binary
       * is a build problem, not a reason to skip). */
      g_test_add_data_func ("/control/local-stack/start", error->message, test_start_failed);
      return g_test_run ();
    }

  g_test_add_func ("/control/local-stack/hostile-state-dir-runs-nothing",
                   test_hostile_state_dir_runs_nothing);
  g_test_add_func ("/control/local-stack/up-all-healthy", test_up_all_healthy);
  g_test_add_func ("/control/local-stack/crash-restarts-only-the-dead",
                   test_crash_restarts_only_the_dead);
  g_test_add_func ("/control/local-stack/down-up-keeps-data", test_down_up_keeps_data);
  g_test_add_func ("/control/local-stack/unknown-component", test_unknown_component);
  g_test_add_func ("/control/local-stack/cancel-stops-what-it-started",
                   test_cancel_stops_what_it_started);

  ret = g_test_run ();
  odd_test_stack_stop (stack);
  g_assert_false (g_file_test (pwned, G_FILE_TEST_EXISTS));
  g_free (pwned);
  return ret;
}
