#define G_LOG_DOMAIN "odd-it-stack"

#include "odd-it-stack.h"

#include <unistd.h>
#include <gio/gio.h>

#ifdef ODD_IT_HAVE_FIXTURE
#include "odd-test-stack.h"
#endif

struct _OddItStack
{
#ifdef ODD_IT_HAVE_FIXTURE
  OddTestStack *fixture;
#endif
  GHashTable   *urls;  /* name → URL, for the external mode */
};

static gboolean
external_mode (void)
{
  const char *v = g_getenv ("ODD_IT_EXTERNAL");

  return v != NULL && g_strcmp0 (v, "1") == 0;
}

static const char *
external_names[][2] = {
  { "gateway", "ODD_IT_GATEWAY_URL" },
  { "read-model", "ODD_IT_READ_MODEL_URL" },
  { "postgres", "ODD_IT_POSTGRES_URL" },
  { "redis", "ODD_IT_REDIS_URL" },
  { "rabbitmq", "ODD_IT_RABBITMQ_URL" },
};

#ifdef ODD_IT_HAVE_FIXTURE
/* A failed assertion aborts the test program before odd_test_stack_stop() runs, and the
 * stack's servers are detached processes: they would outlive it. A small shell watches
 * this process and, if it dies while the state directory still exists (a clean stop
 * removes it), stops that stack with `oddctl local down` and removes the directory. */
static void
start_watchdog (const char *state_dir)
{
  const char *build_dir = g_getenv ("ODD_BUILD_DIR");
  g_autofree char *oddctl = NULL;
  g_autofree char *script = NULL;
  g_autofree char *q_state = NULL;
  g_autofree char *q_oddctl = NULL;
  g_autoptr (GError) error = NULL;
  /* its own session: a timeout that kills the test's process group spares it */
  const char *argv[] = { "setsid", "/bin/sh", "-c", NULL, NULL };

  if (build_dir == NULL)
    return;
  oddctl = g_build_filename (build_dir, "app", "oddctl", "oddctl", NULL);
  if (!g_file_test (oddctl, G_FILE_TEST_IS_EXECUTABLE))
    return;
  q_state = g_shell_quote (state_dir);
  q_oddctl = g_shell_quote (oddctl);
  /* ODD_TEST_KEEP_STATE=1 keeps the directory (and its logs), as the fixture does */
  script = g_strdup_printf ("while kill -0 %d 2>/dev/null; do sleep 1; done;"
                            " if [ -d %s ]; then ODD_STATE_DIR=%s %s local down;%s%s; fi",
                            (int) getpid (), q_state, q_state, q_oddctl,
                            g_strcmp0 (g_getenv ("ODD_TEST_KEEP_STATE"), "1") == 0 ? " :" : " rm -rf ",
                            g_strcmp0 (g_getenv ("ODD_TEST_KEEP_STATE"), "1") == 0 ? "" : q_state);
  argv[3] = script;
  /* not reaped by us: GLib double-forks, so the watchdog outlives this process */
  if (!g_spawn_async (NULL, (char **) argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL |
                      G_SPAWN_STDIN_FROM_DEV_NULL,
                      NULL, NULL, NULL, &error))
    g_test_message ("no stack watchdog: %s", error->message);
}
#endif

OddItStack *
odd_it_stack_start (GError **error)
{
  g_autofree OddItStack *stack = g_new0 (OddItStack, 1);

  stack->urls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  if (external_mode ())
    {
      for (guint i = 0; i < G_N_ELEMENTS (external_names); i++)
        {
          const char *url = g_getenv (external_names[i][1]);

          if (url == NULL && i < 4)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "ODD_IT_EXTERNAL=1 needs %s", external_names[i][1]);
              g_hash_table_unref (stack->urls);
              return NULL;
            }
          if (url != NULL)
            g_hash_table_insert (stack->urls, (gpointer) external_names[i][0], g_strdup (url));
        }
      return g_steal_pointer (&stack);
    }

#ifdef ODD_IT_HAVE_FIXTURE
  stack->fixture = odd_test_stack_start (error);
  if (stack->fixture == NULL)
    {
      g_hash_table_unref (stack->urls);
      return NULL;
    }
  start_watchdog (odd_test_stack_get_state_dir (stack->fixture));
  return g_steal_pointer (&stack);
#else
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "built without the local-stack fixture and ODD_IT_EXTERNAL is not set");
  g_hash_table_unref (stack->urls);
  return NULL;
#endif
}

void
odd_it_stack_stop (OddItStack *stack)
{
  if (stack == NULL)
    return;
#ifdef ODD_IT_HAVE_FIXTURE
  if (stack->fixture != NULL)
    odd_test_stack_stop (stack->fixture);
#endif
  g_hash_table_unref (stack->urls);
  g_free (stack);
}

const char *
odd_it_stack_url (OddItStack *stack,
                  const char *name)
{
#ifdef ODD_IT_HAVE_FIXTURE
  if (stack->fixture != NULL)
    {
      if (g_str_equal (name, "gateway"))
        return odd_test_stack_get_gateway_url (stack->fixture);
      if (g_str_equal (name, "read-model"))
        return odd_test_stack_get_read_model_url (stack->fixture);
      if (g_str_equal (name, "postgres"))
        return odd_test_stack_get_postgres_url (stack->fixture);
      if (g_str_equal (name, "redis"))
        return odd_test_stack_get_redis_url (stack->fixture);
      if (g_str_equal (name, "rabbitmq"))
        return odd_test_stack_get_rabbitmq_url (stack->fixture);
      return odd_test_stack_get_url (stack->fixture, name);
    }
#endif
  {
    const char *url = g_hash_table_lookup (stack->urls, name);

    if (url == NULL)
      g_error ("no URL for %s", name);
    return url;
  }
}

gboolean
odd_it_stack_can_inject_faults (OddItStack *stack)
{
#ifdef ODD_IT_HAVE_FIXTURE
  return stack->fixture != NULL;
#else
  return FALSE;
#endif
}

GPid
odd_it_stack_pid (OddItStack *stack,
                  const char *name)
{
#ifdef ODD_IT_HAVE_FIXTURE
  if (stack->fixture != NULL)
    return odd_test_stack_get_pid (stack->fixture, name);
#endif
  return 0;
}

static gboolean
no_faults (GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "fault injection needs the local-stack fixture");
  return FALSE;
}

gboolean
odd_it_stack_kill (OddItStack *stack,
                   const char *name,
                   int         signum,
                   GError    **error)
{
#ifdef ODD_IT_HAVE_FIXTURE
  if (stack->fixture != NULL)
    return odd_test_stack_kill (stack->fixture, name, signum, error);
#endif
  return no_faults (error);
}

gboolean
odd_it_stack_restart (OddItStack *stack,
                      const char *name,
                      GError    **error)
{
#ifdef ODD_IT_HAVE_FIXTURE
  if (stack->fixture != NULL)
    return odd_test_stack_restart (stack->fixture, name, error);
#endif
  return no_faults (error);
}

gboolean
odd_it_stack_up (OddItStack *stack,
                 GError    **error)
{
#ifdef ODD_IT_HAVE_FIXTURE
  if (stack->fixture != NULL)
    return odd_test_stack_up (stack->fixture, error);
#endif
  return no_faults (error);
}

gboolean
odd_it_stack_set_queue_limit (OddItStack *stack,
                              gint64      max_length,
                              GError    **error)
{
#ifdef ODD_IT_HAVE_FIXTURE
  if (stack->fixture != NULL)
    {
      OddLocalStack *local = odd_test_stack_get_local_stack (stack->fixture);
      OddComponent *rabbitmq = odd_local_stack_get_component (local, "rabbitmq");

      return odd_component_set_queue_limit (rabbitmq, max_length, max_length > 0
                                                                  ? ODD_DEFAULT_JOBS_CREATED_MAX_BYTES
                                                                  : 0,
                                            NULL, error);
    }
#endif
  return no_faults (error);
}
