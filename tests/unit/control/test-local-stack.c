#define G_LOG_DOMAIN "odd-test"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <hiredis.h>
#include <libpq-fe.h>

#include <libsoup/soup.h>

#include "odd-process.h"
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

/* The settings oddctl writes are the ones the server runs with. */
static void
test_postgres_settings (void)
{
  g_autofree char *flush_after = NULL;
  g_autofree char *listen = NULL;

  pg_exec ("SHOW backend_flush_after", &flush_after);
  g_assert_cmpstr (flush_after, ==, "256kB");
  pg_exec ("SHOW listen_addresses", &listen);
  g_assert_cmpstr (listen, ==, "127.0.0.1");
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

static guint
http_status (guint16     port,
             const char *path)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);

  return soup_message_get_status (msg);
}

static void
set_replicas (OddLocalStack *local,
              guint          count)
{
  const char *services[] = { "processor", "metrics-engine", "gateway" };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    {
      g_assert_true (odd_local_stack_set_replicas (local, services[i], count, &error));
      g_assert_no_error (error);
    }
}

/* Scale out and back: replicas with their own ports, logs and pid files, recorded in
 * stack.json for later commands; gateway replicas share its port; fewer replicas stop the
 * extra ones. */
static void
test_replicas (void)
{
  OddLocalStack *local = odd_test_stack_get_local_stack (stack);
  OddStackPaths *paths = odd_local_stack_get_paths (local);
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStackPaths) saved = NULL;
  g_autoptr(OddLocalStack) later = NULL;
  g_autoptr(JsonNode) status = NULL;
  g_autofree char *log = NULL;
  guint16 shared = odd_stack_paths_get_port (paths, ODD_PORT_GATEWAY);
  OddComponent *processor2, *gateway2;
  GPid processor2_pid;
  JsonObject *me1, *me2;

  g_assert_false (odd_local_stack_set_replicas (local, "postgres", 2, &error));
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (odd_local_stack_set_replicas (local, "processor", 0, &error));
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID);
  g_clear_error (&error);

  set_replicas (local, 2);
  g_assert_true (odd_test_stack_up (stack, &error));
  g_assert_no_error (error);

  status = odd_local_stack_status (local, NULL);
  g_assert_true (json_object_get_boolean_member (find_status (status, "processor-2"), "healthy"));
  g_assert_true (json_object_get_boolean_member (find_status (status, "gateway-2"), "healthy"));
  g_assert_cmpint (json_object_get_int_member (find_status (status, "processor-2"), "port"), ==,
                   odd_stack_paths_get_replica_port (paths, ODD_PORT_PROCESSOR, 2));
  /* one metrics-engine projects; the other is ready too, or stands by for the lock */
  me1 = find_status (status, "metrics-engine");
  me2 = find_status (status, "metrics-engine-2");
  g_assert_true (json_object_get_boolean_member (me1, "healthy") ||
                 json_object_get_boolean_member (me2, "healthy"));
  g_assert_true (json_object_get_boolean_member (me1, "healthy") ||
                 json_object_get_boolean_member (me1, "standby"));
  g_assert_true (json_object_get_boolean_member (me2, "healthy") ||
                 json_object_get_boolean_member (me2, "standby"));

  processor2 = odd_local_stack_get_component (local, "processor-2");
  processor2_pid = odd_component_get_pid (processor2);
  g_assert_cmpint (processor2_pid, >, 0);
  g_assert_cmpint (processor2_pid, !=, odd_component_get_pid (odd_local_stack_get_component (local, "processor")));
  log = odd_component_dup_log_file (processor2);
  g_assert_true (g_str_has_suffix (log, "/logs/processor-2.log"));
  g_assert_true (g_file_test (log, G_FILE_TEST_EXISTS));

  /* What `status` and the UIs load later knows the replicas. */
  saved = odd_stack_paths_load (odd_stack_paths_get_state_dir (paths), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (odd_stack_paths_get_replicas (saved, ODD_PORT_PROCESSOR), ==, 2);
  later = odd_local_stack_new (saved);
  g_assert_cmpint (odd_component_get_pid (odd_local_stack_get_component (later, "processor-2")), ==,
                   processor2_pid);

  /* Both gateways on the one port: with either gone, it still answers. */
  gateway2 = odd_local_stack_get_component (local, "gateway-2");
  g_assert_cmpuint (odd_component_get_port (gateway2), !=, shared);
  g_assert_cmpuint (http_status (odd_component_get_port (gateway2), "/readyz"), ==, 200);
  g_assert_true (odd_test_stack_kill (stack, "gateway", SIGKILL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 20; i++)
    g_assert_cmpuint (http_status (shared, "/healthz"), ==, 200);

  /* Back to one of each: the extra replicas stop, the killed gateway starts again. */
  set_replicas (local, 1);
  g_assert_true (odd_test_stack_up (stack, &error));
  g_assert_no_error (error);
  {
    g_autoptr(OddComponent) gone = odd_component_new_replica ("processor", ODD_PORT_PROCESSOR, 2,
                                                              paths);

    g_assert_cmpint (odd_component_get_pid (gone), ==, 0);
  }
  g_assert_cmpint (odd_process_is_alive (processor2_pid, "odd-processor"), ==, FALSE);
  assert_all (TRUE);
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
  g_test_add_func ("/control/local-stack/postgres-settings", test_postgres_settings);
  g_test_add_func ("/control/local-stack/crash-restarts-only-the-dead",
                   test_crash_restarts_only_the_dead);
  g_test_add_func ("/control/local-stack/down-up-keeps-data", test_down_up_keeps_data);
  g_test_add_func ("/control/local-stack/unknown-component", test_unknown_component);
  g_test_add_func ("/control/local-stack/replicas", test_replicas);
  g_test_add_func ("/control/local-stack/cancel-stops-what-it-started",
                   test_cancel_stops_what_it_started);

  ret = g_test_run ();
  odd_test_stack_stop (stack);
  g_assert_false (g_file_test (pwned, G_FILE_TEST_EXISTS));
  g_free (pwned);
  return ret;
}
