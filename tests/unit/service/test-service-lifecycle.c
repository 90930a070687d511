/* test-service-lifecycle.c: OddService (configuration, exit codes, the drain) and OddStopFlag */
#include "odd-service.h"

#include <signal.h>

/* ---- OddStopFlag ---- */

typedef struct {
  OddStopFlag *flag;
  guint        timeout_ms;
  gint         woken_by_stop;  /* atomic */
  gint         returned;       /* atomic */
} Waiter;

static gpointer
waiter_thread (gpointer data)
{
  Waiter *w = data;

  g_atomic_int_set (&w->woken_by_stop, odd_stop_flag_wait (w->flag, w->timeout_ms));
  g_atomic_int_set (&w->returned, 1);
  return NULL;
}

/* Until @n threads sleep in the flag (the threads were just started: this ends). */
static void
wait_for_waiters (OddStopFlag *flag,
                  guint        n)
{
  while (odd_stop_flag_get_n_waiting (flag) < n)
    g_usleep (1000);
}

static void
test_stop_flag (void)
{
  g_autoptr(OddStopFlag) flag = odd_stop_flag_new ();
  /* An hour: only the stop can end these waits while the test runs. */
  Waiter waiters[3] = {
    { flag, 3600 * 1000, 0, 0 }, { flag, 3600 * 1000, 0, 0 }, { flag, 3600 * 1000, 0, 0 },
  };
  GThread *threads[G_N_ELEMENTS (waiters)];

  g_assert_false (odd_stop_flag_is_stopped (flag));
  /* Not stopped: the wait runs out and says so. */
  g_assert_false (odd_stop_flag_wait (flag, 1));

  for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
    threads[i] = g_thread_new ("waiter", waiter_thread, &waiters[i]);
  wait_for_waiters (flag, G_N_ELEMENTS (waiters));
  for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
    g_assert_false (g_atomic_int_get (&waiters[i].returned));

  /* One stop wakes every waiter, and each one knows it was the stop. */
  odd_stop_flag_stop (flag);
  for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (g_atomic_int_get (&waiters[i].woken_by_stop));
    }
  g_assert_cmpuint (odd_stop_flag_get_n_waiting (flag), ==, 0);

  /* Stopped stays stopped: a later wait returns at once. */
  g_assert_true (odd_stop_flag_is_stopped (flag));
  g_assert_true (odd_stop_flag_wait (flag, 3600 * 1000));
  odd_stop_flag_stop (flag);

  odd_stop_flag_reset (flag);
  g_assert_false (odd_stop_flag_is_stopped (flag));
  g_assert_false (odd_stop_flag_wait (flag, 1));
}

/* ---- configuration and exit codes ---- */

static void
unset_service_env (void)
{
  g_unsetenv ("PORT");
  g_unsetenv ("ODD_BIND");
  g_unsetenv ("ODD_SHUTDOWN_GRACE_S");
}

static void
test_config (void)
{
  struct {
    const char *variable;
    const char *value;
  } invalid[] = {
    { "PORT", "abc" },
    { "PORT", "65536" },
    { "ODD_BIND", "example.org" },
    { "ODD_SHUTDOWN_GRACE_S", "-1" },
    { "ODD_SHUTDOWN_GRACE_S", "5s" },
  };

  unset_service_env ();
  {
    g_autoptr(OddService) service = odd_service_new ("test", 4321);
    g_autoptr(GError) error = NULL;

    g_assert_true (odd_service_load_config (service, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (odd_service_get_port (service), ==, 4321);
    g_assert_cmpstr (odd_service_get_bind (service), ==, "127.0.0.1");
    g_assert_cmpuint (odd_service_get_grace (service), ==, ODD_SERVICE_DEFAULT_GRACE_S);
  }

  g_setenv ("PORT", "0", TRUE);
  g_setenv ("ODD_BIND", "localhost", TRUE);
  g_setenv ("ODD_SHUTDOWN_GRACE_S", "30", TRUE);
  {
    g_autoptr(OddService) service = odd_service_new ("test", 4321);
    g_autoptr(GError) error = NULL;

    g_assert_true (odd_service_load_config (service, &error));
    g_assert_cmpuint (odd_service_get_port (service), ==, 0);
    g_assert_cmpstr (odd_service_get_bind (service), ==, "127.0.0.1");
    g_assert_cmpuint (odd_service_get_grace (service), ==, 30);
  }

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(OddService) service = odd_service_new ("test", 4321);
      g_autoptr(GError) error = NULL;

      unset_service_env ();
      g_setenv (invalid[i].variable, invalid[i].value, TRUE);
      g_assert_false (odd_service_load_config (service, &error));
      g_assert_error (error, ODD_CONFIG_ERROR, 0);
      /* The message names the variable and its value. */
      g_assert_nonnull (strstr (error->message, invalid[i].variable));
      g_assert_nonnull (strstr (error->message, invalid[i].value));
      g_assert_cmpint (odd_service_exit_for_error (error), ==, ODD_SERVICE_EXIT_CONFIG);
    }
  unset_service_env ();
}

static gboolean
setup_config_error (OddService  *service,
                    GError     **error)
{
  g_set_error (error, ODD_CONFIG_ERROR, 0, "ODD_TEST_VARIABLE is wrong");
  return FALSE;
}

static gboolean
setup_runtime_error (OddService  *service,
                     GError     **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE, "the port is taken");
  return FALSE;
}

static void
test_exit_codes (void)
{
  char *no_args[] = { (char *) "odd-test", NULL };
  char *extra_args[] = { (char *) "odd-test", (char *) "--verbose", NULL };

  unset_service_env ();
  g_assert_cmpint (odd_service_main ("test", 0, NULL, setup_config_error, 1, no_args),
                   ==, ODD_SERVICE_EXIT_CONFIG);
  g_assert_cmpint (odd_service_main ("test", 0, NULL, setup_runtime_error, 1, no_args),
                   ==, ODD_SERVICE_EXIT_FAILURE);
  /* A service takes no arguments; the setup is not even reached. */
  g_assert_cmpint (odd_service_main ("test", 0, NULL, setup_runtime_error, 2, extra_args),
                   ==, ODD_SERVICE_EXIT_CONFIG);
  g_setenv ("PORT", "many", TRUE);
  g_assert_cmpint (odd_service_main ("test", 0, NULL, setup_runtime_error, 1, no_args),
                   ==, ODD_SERVICE_EXIT_CONFIG);
  unset_service_env ();
}

/* ---- the drain ---- */

/* A part with a worker thread that sleeps in its stop flag between steps, as the engine and
 * the processor do. */
typedef struct {
  OddStopFlag *stop;
  GThread     *thread;
  gint         woken_by_stop;  /* atomic */
} Worker;

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;

  /* An hour per step: only a stop ends this wait while the test runs. */
  while (!odd_stop_flag_wait (w->stop, 3600 * 1000))
    ;
  g_atomic_int_set (&w->woken_by_stop, 1);
  return NULL;
}

static void
worker_start (gpointer data)
{
  Worker *w = data;

  w->thread = g_thread_new ("test-worker", worker_thread, w);
}

static void
worker_stop (gpointer data)
{
  Worker *w = data;

  odd_stop_flag_stop (w->stop);
  if (w->thread != NULL)
    g_thread_join (g_steal_pointer (&w->thread));
}

static const OddServicePartFuncs worker_funcs = {
  .start = worker_start,
  .stop = worker_stop,
};

/* A part with a drain that ends only when the grace is over (a gateway whose broker never
 * confirms). */
typedef struct {
  gboolean started;
  gboolean cancelled;
} Drain;

static void
on_drain_cancelled (GCancellable *cancellable,
                    GTask        *task)
{
  g_task_return_boolean (task, FALSE);
  g_object_unref (task);
}

static void
drain_async (gpointer             data,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  Drain *drain = data;
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  drain->started = TRUE;
  g_task_set_task_data (task, drain, NULL);
  g_cancellable_connect (cancellable, G_CALLBACK (on_drain_cancelled), task, NULL);
}

static gboolean
drain_finish (gpointer       data,
              GAsyncResult  *result,
              GError       **error)
{
  Drain *drain = data;

  drain->cancelled = TRUE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

static const OddServicePartFuncs drain_funcs = {
  .drain_async = drain_async,
  .drain_finish = drain_finish,
};

typedef struct {
  OddService        *service;
  Worker             worker;
  SoupServerMessage *held;         /* the request kept in flight */
  gboolean           answer_held;  /* answer it during the drain (else the grace ends it) */
  guint              step;
  gboolean           refused;      /* a new connection was refused during the drain */
  gboolean           woken;        /* the worker had woken while the request was in flight */
  guint              status;       /* the client's answer */
  gboolean           client_done;
  SoupSession       *probe;        /* asks /readyz over a connection it keeps alive */
  guint              ready_before; /* /readyz's status before the signal */
  guint              ready_after;  /* and during the drain, on the same connection */
  char              *ready_reason; /* the reason of the latter */
  gboolean           probe_done;
} Drive;

static void
hold_handler (OddHttpServer     *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  Drive *d = user_data;

  soup_server_message_pause (msg);
  d->held = g_object_ref (msg);
}

static void
on_client_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Drive *d = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  d->status = body != NULL ? soup_message_get_status (msg) : 0;
  d->client_done = TRUE;
}

static void
on_probe_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Drive *d = user_data;
  g_autoptr(GBytes) body = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);
  status = body != NULL ? soup_message_get_status (msg) : 0;
  if (d->step == 0)
    d->ready_before = status;
  else
    {
      g_autoptr(JsonNode) node = body != NULL ? json_from_string (g_bytes_get_data (body, NULL), NULL) : NULL;

      d->ready_after = status;
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        d->ready_reason = g_strdup (json_object_get_string_member_with_default (json_node_get_object (node),
                                                                                "reason", ""));
    }
  d->probe_done = TRUE;
}

static void
probe_ready (Drive *d)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/readyz", odd_service_get_port (d->service));
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

  d->probe_done = FALSE;
  soup_session_send_and_read_async (d->probe, msg, G_PRIORITY_DEFAULT, NULL, on_probe_done, d);
}

static gboolean
connect_refused (guint port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  return connection == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

/* Drives the test from the service's own main loop, a step at a time. */
static gboolean
drive (gpointer user_data)
{
  Drive *d = user_data;

  switch (d->step)
    {
    case 0:
      /* The worker sleeps in its wait and the request is in flight: the probe connects
       * (and keeps its connection), then the signal. */
      if (d->held == NULL || odd_stop_flag_get_n_waiting (d->worker.stop) == 0)
        return G_SOURCE_CONTINUE;
      if (d->probe == NULL)
        {
          d->probe = soup_session_new ();
          probe_ready (d);
        }
      if (!d->probe_done)
        return G_SOURCE_CONTINUE;
      g_assert_cmpuint (d->ready_before, ==, SOUP_STATUS_OK);
      g_assert_false (odd_service_is_stopping (d->service));
      raise (SIGTERM);
      d->step++;
      return G_SOURCE_CONTINUE;

    case 1:
      if (!odd_service_is_stopping (d->service))
        return G_SOURCE_CONTINUE;
      d->refused = connect_refused (odd_service_get_port (d->service));
      /* Over the connection kept alive: not ready any more. Only when the drain waits for
       * the held request: a 1 s grace could end the drain before the answer. */
      if (d->answer_held)
        probe_ready (d);
      d->step++;
      return G_SOURCE_CONTINUE;

    case 2:
      /* The stop woke the worker while the request was still in flight, and the drain
       * waits for the request: this loop still runs. */
      if (!g_atomic_int_get (&d->worker.woken_by_stop) || (d->answer_held && !d->probe_done))
        return G_SOURCE_CONTINUE;
      d->woken = TRUE;
      g_assert_false (d->client_done);
      if (d->answer_held)
        {
          soup_server_message_set_status (d->held, SOUP_STATUS_OK, NULL);
          soup_server_message_set_response (d->held, "text/plain", SOUP_MEMORY_STATIC, "done", 4);
          soup_server_message_unpause (d->held);
        }
      d->step++;
      return G_SOURCE_REMOVE;

    default:
      g_assert_not_reached ();
    }
}

static void
run_drain (gboolean answer_held,
           Drain   *drain)
{
  static const char *const get[] = { "GET", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(OddHttpServer) server = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autofree char *url = NULL;
  Drive d = { .answer_held = answer_held };

  unset_service_env ();
  g_setenv ("PORT", "0", TRUE);
  /* Long enough never to end a drain that has its answer; 1 s when it is the point. */
  g_setenv ("ODD_SHUTDOWN_GRACE_S", answer_held ? "600" : "1", TRUE);
  d.service = odd_service_new ("test", 0);
  g_assert_true (odd_service_load_config (d.service, &error));
  g_assert_no_error (error);

  d.worker.stop = odd_stop_flag_new ();
  odd_service_add_part (d.service, &d.worker, NULL, &worker_funcs);
  if (drain != NULL)
    odd_service_add_part (d.service, drain, NULL, &drain_funcs);
  server = odd_http_server_new ("test", odd_service_get_metrics (d.service), NULL, NULL);
  odd_http_server_add_route (server, "/hold", get, hold_handler, &d);
  g_assert_true (odd_service_serve (d.service, server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (odd_service_get_port (d.service), >, 0);

  url = g_strdup_printf ("http://127.0.0.1:%u/hold", odd_service_get_port (d.service));
  msg = soup_message_new ("GET", url);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_client_done, &d);
  g_timeout_add (5, drive, &d);

  g_assert_cmpint (odd_service_run (d.service), ==, ODD_SERVICE_EXIT_OK);

  g_assert_cmpuint (d.step, ==, 3);
  g_assert_true (d.refused);
  g_assert_cmpuint (d.ready_before, ==, SOUP_STATUS_OK);
  if (answer_held)
    {
      g_assert_cmpuint (d.ready_after, ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
      g_assert_cmpstr (d.ready_reason, ==, "draining");
    }
  g_assert_true (d.woken);
  /* The worker is joined by the time run() returns. */
  g_assert_null (d.worker.thread);
  while (!d.client_done)
    g_main_context_iteration (NULL, TRUE);
  if (answer_held)
    g_assert_cmpuint (d.status, ==, SOUP_STATUS_OK);     /* answered during the drain */
  else
    g_assert_cmpuint (d.status, !=, SOUP_STATUS_OK);     /* cut when the grace was over */

  g_clear_object (&d.held);
  g_clear_object (&d.probe);
  g_free (d.ready_reason);
  g_clear_object (&d.service);
  odd_stop_flag_free (d.worker.stop);
  unset_service_env ();
}

static void
test_sigterm_drains (void)
{
  run_drain (TRUE, NULL);
}

static void
test_grace_bounds_the_drain (void)
{
  Drain drain = { 0 };

  /* The request is never answered and the part's drain never ends by itself: the grace
   * cancels the drain and the service still stops, with status 0. */
  run_drain (FALSE, &drain);
  g_assert_true (drain.started);
  g_assert_true (drain.cancelled);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/service-lifecycle/stop-flag", test_stop_flag);
  g_test_add_func ("/service-lifecycle/config", test_config);
  g_test_add_func ("/service-lifecycle/exit-codes", test_exit_codes);
  g_test_add_func ("/service-lifecycle/sigterm-drains", test_sigterm_drains);
  g_test_add_func ("/service-lifecycle/grace-bounds-the-drain", test_grace_bounds_the_drain);

  return g_test_run ();
}
