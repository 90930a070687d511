#define G_LOG_DOMAIN "odd-it-stack"

#include "odd-it-stack.h"

#include <gio/gio.h>

#include "odd-test-stack.h"

struct _OddItStack
{
  OddTestStack *fixture;  /* NULL in the external mode */
  GHashTable   *urls;     /* name → URL, for the external mode */
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

OddItStack *
odd_it_stack_start (GError **error)
{
  return odd_it_stack_start_with_replicas (NULL, error);
}

OddItStack *
odd_it_stack_start_with_replicas (const char  *replicas,
                                  GError     **error)
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

  /* Should this program die first, the fixture's reaper stops the stack. */
  stack->fixture = replicas != NULL ? odd_test_stack_start_with_replicas (replicas, error)
                                     : odd_test_stack_start (error);
  if (stack->fixture == NULL)
    {
      g_hash_table_unref (stack->urls);
      return NULL;
    }
  return g_steal_pointer (&stack);
}

void
odd_it_stack_stop (OddItStack *stack)
{
  if (stack == NULL)
    return;
  if (stack->fixture != NULL)
    odd_test_stack_stop (stack->fixture);
  g_hash_table_unref (stack->urls);
  g_free (stack);
}

const char *
odd_it_stack_url (OddItStack *stack,
                  const char *name)
{
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
  return stack->fixture != NULL;
}

GPid
odd_it_stack_pid (OddItStack *stack,
                  const char *name)
{
  if (stack->fixture != NULL)
    return odd_test_stack_get_pid (stack->fixture, name);
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
  if (stack->fixture != NULL)
    return odd_test_stack_kill (stack->fixture, name, signum, error);
  return no_faults (error);
}

gboolean
odd_it_stack_restart (OddItStack *stack,
                      const char *name,
                      GError    **error)
{
  if (stack->fixture != NULL)
    return odd_test_stack_restart (stack->fixture, name, error);
  return no_faults (error);
}

gboolean
odd_it_stack_up (OddItStack *stack,
                 GError    **error)
{
  if (stack->fixture != NULL)
    return odd_test_stack_up (stack->fixture, error);
  return no_faults (error);
}

gboolean
odd_it_stack_set_queue_limit (OddItStack *stack,
                              gint64      max_length,
                              GError    **error)
{
  if (stack->fixture != NULL)
    {
      OddLocalStack *local = odd_test_stack_get_local_stack (stack->fixture);
      OddComponent *rabbitmq = odd_local_stack_get_component (local, "rabbitmq");

      return odd_component_set_queue_limit (rabbitmq, max_length, max_length > 0
                                                                  ? ODD_DEFAULT_JOBS_CREATED_MAX_BYTES
                                                                  : 0,
                                            NULL, error);
    }
  return no_faults (error);
}
