#define G_LOG_DOMAIN "odd-control"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "odd-local-stack.h"
#include "odd-probe.h"
#include "odd-process.h"

struct _OddLocalStack
{
  GObject        parent_instance;

  OddStackPaths *paths;
  GPtrArray     *components;  /* OddComponent, in start order */
  GStrv          service_env; /* extra KEY=VALUE for the services */
  gint           busy;        /* an up or down is running */
  gboolean       servers_only;
};

G_DEFINE_FINAL_TYPE (OddLocalStack, odd_local_stack, G_TYPE_OBJECT)

static const struct
{
  const char       *name;
  OddComponentKind  kind;
  OddPort           port;
} component_table[] = {
  /* RabbitMQ first: it takes the longest, so it boots while the others start. */
  { "rabbitmq", ODD_COMPONENT_RABBITMQ, ODD_PORT_RABBITMQ },
  { "postgres", ODD_COMPONENT_POSTGRES, ODD_PORT_POSTGRES },
  { "redis", ODD_COMPONENT_REDIS, ODD_PORT_REDIS },
  { "processor", ODD_COMPONENT_SERVICE, ODD_PORT_PROCESSOR },
  { "metrics-engine", ODD_COMPONENT_SERVICE, ODD_PORT_METRICS_ENGINE },
  { "read-model", ODD_COMPONENT_SERVICE, ODD_PORT_READ_MODEL },
  { "gateway", ODD_COMPONENT_SERVICE, ODD_PORT_GATEWAY },
  /* The dashboard in a browser: it runs odd-dashboard against the two above. */
  { "web-terminal", ODD_COMPONENT_SERVICE, ODD_PORT_WEB_TERMINAL },
};

static const char * const component_names[] = {
  "rabbitmq", "postgres", "redis", "processor", "metrics-engine", "read-model", "gateway",
  "web-terminal", NULL,
};

const char * const *
odd_local_stack_component_names (void)
{
  return component_names;
}

static void
odd_local_stack_finalize (GObject *object)
{
  OddLocalStack *self = ODD_LOCAL_STACK (object);

  g_clear_pointer (&self->components, g_ptr_array_unref);
  g_clear_pointer (&self->paths, odd_stack_paths_unref);
  g_clear_pointer (&self->service_env, g_strfreev);

  G_OBJECT_CLASS (odd_local_stack_parent_class)->finalize (object);
}

static void
odd_local_stack_class_init (OddLocalStackClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = odd_local_stack_finalize;
}

static void
odd_local_stack_init (OddLocalStack *self)
{
  self->components = g_ptr_array_new_with_free_func (g_object_unref);
}

/* What the read-model probes for its alerts: every replica on its own port, by its name. */
static char *
service_urls (OddLocalStack *self)
{
  g_autoptr(GString) urls = g_string_new (NULL);

  for (guint i = 0; i < self->components->len; i++)
    {
      OddComponent *component = g_ptr_array_index (self->components, i);

      if (odd_component_get_kind (component) != ODD_COMPONENT_SERVICE ||
          g_str_equal (odd_component_get_service (component), "web-terminal"))
        continue;
      g_string_append_printf (urls, "%s%s=http://127.0.0.1:%u", urls->len > 0 ? "," : "",
                              odd_component_get_name (component),
                              odd_component_get_port (component));
    }

  return g_string_free (g_steal_pointer (&urls), FALSE);
}

static void
configure_services (OddLocalStack *self)
{
  g_autofree char *amqp = odd_stack_paths_rabbitmq_url (self->paths);
  g_autofree char *pg = odd_stack_paths_postgres_url (self->paths);
  g_autofree char *redis = odd_stack_paths_redis_url (self->paths);
  g_autofree char *read_model = odd_stack_paths_http_url (self->paths, ODD_PORT_READ_MODEL);
  g_autofree char *gateway = odd_stack_paths_http_url (self->paths, ODD_PORT_GATEWAY);
  g_autofree char *service_urls_list = service_urls (self);
  const char *host = g_get_host_name ();
  g_autofree char *amqp_env = g_strconcat ("RABBITMQ_URL=", amqp, NULL);
  g_autofree char *pg_env = g_strconcat ("POSTGRES_URL=", pg, NULL);
  g_autofree char *redis_env = g_strconcat ("REDIS_URL=", redis, NULL);
  g_autofree char *read_model_env = g_strconcat ("READ_MODEL_URL=", read_model, NULL);
  g_autofree char *gateway_env = g_strconcat ("GATEWAY_URL=", gateway, NULL);
  g_autofree char *service_urls_env = g_strconcat ("ODD_SERVICE_URLS=", service_urls_list, NULL);

  for (guint i = 0; i < self->components->len; i++)
    {
      OddComponent *component = g_ptr_array_index (self->components, i);
      g_autoptr(GStrvBuilder) builder = NULL;
      g_auto(GStrv) env = NULL;
      g_autofree char *port = NULL;
      g_autofree char *replica_port = NULL;
      g_autofree char *instance = NULL;
      OddPort service_port;

      if (odd_component_get_kind (component) != ODD_COMPONENT_SERVICE)
        continue;

      builder = g_strv_builder_new ();
      if (self->service_env != NULL)
        g_strv_builder_addv (builder, (const char **) self->service_env);
      service_port = odd_stack_port_for_service (odd_component_get_service (component));
      if (service_port != ODD_PORT_LAST && odd_stack_port_is_shared (service_port))
        {
          /* Every replica listens on the one port users know (the kernel spreads the
           * connections) and on a private one for its own health and metrics. */
          port = g_strdup_printf ("PORT=%u", odd_stack_paths_get_port (self->paths, service_port));
          replica_port = g_strdup_printf ("ODD_REPLICA_PORT=%u", odd_component_get_port (component));
          g_strv_builder_add (builder, "ODD_REUSE_PORT=1");
          g_strv_builder_add (builder, replica_port);
        }
      else
        port = g_strdup_printf ("PORT=%u", odd_component_get_port (component));
      g_strv_builder_add (builder, port);
      /* The instance id of its events and logs: one per replica. */
      instance = g_strdup_printf ("HOSTNAME=%s-%s", host, odd_component_get_name (component));
      g_strv_builder_add (builder, instance);
      g_strv_builder_add (builder, "ODD_BIND=127.0.0.1");
      g_strv_builder_add (builder, amqp_env);
      g_strv_builder_add (builder, pg_env);
      g_strv_builder_add (builder, redis_env);
      g_strv_builder_add (builder, read_model_env);
      g_strv_builder_add (builder, gateway_env);
      g_strv_builder_add (builder, service_urls_env);
      env = g_strv_builder_end (builder);
      odd_component_set_env (component, (const char * const *) env);
    }
}

/* The components in start order, each service as many times as it has replicas. */
static void
build_components (OddLocalStack *self)
{
  g_ptr_array_set_size (self->components, 0);
  for (guint i = 0; i < G_N_ELEMENTS (component_table); i++)
    {
      guint replicas = component_table[i].kind == ODD_COMPONENT_SERVICE
                       ? odd_stack_paths_get_replicas (self->paths, component_table[i].port) : 1;

      if (component_table[i].kind != ODD_COMPONENT_SERVICE)
        {
          g_ptr_array_add (self->components,
                           odd_component_new (component_table[i].kind, component_table[i].name,
                                              component_table[i].port, self->paths));
          continue;
        }
      for (guint r = 1; r <= replicas; r++)
        g_ptr_array_add (self->components,
                         odd_component_new_replica (component_table[i].name,
                                                    component_table[i].port, r, self->paths));
    }
  configure_services (self);
}

OddLocalStack *
odd_local_stack_new (OddStackPaths *paths)
{
  OddLocalStack *self;

  g_return_val_if_fail (paths != NULL, NULL);

  self = g_object_new (ODD_TYPE_LOCAL_STACK, NULL);
  self->paths = odd_stack_paths_ref (paths);
  build_components (self);

  return self;
}

OddLocalStack *
odd_local_stack_new_from_env (GError **error)
{
  g_autoptr(OddStackPaths) paths = odd_stack_paths_new_from_env (error);

  if (paths == NULL)
    return NULL;

  return odd_local_stack_new (paths);
}

OddStackPaths *
odd_local_stack_get_paths (OddLocalStack *self)
{
  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), NULL);

  return self->paths;
}

void
odd_local_stack_set_servers_only (OddLocalStack *self,
                                  gboolean       servers_only)
{
  g_return_if_fail (ODD_IS_LOCAL_STACK (self));

  self->servers_only = !!servers_only;
}

void
odd_local_stack_set_service_env (OddLocalStack      *self,
                                 const char * const *env)
{
  g_return_if_fail (ODD_IS_LOCAL_STACK (self));

  g_clear_pointer (&self->service_env, g_strfreev);
  self->service_env = g_strdupv ((char **) env);
  configure_services (self);
}

gboolean
odd_local_stack_set_replicas (OddLocalStack  *self,
                              const char     *service,
                              guint           replicas,
                              GError        **error)
{
  OddPort port;

  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), FALSE);
  g_return_val_if_fail (service != NULL, FALSE);

  port = odd_stack_port_for_service (service);
  if (port == ODD_PORT_LAST || replicas < 1 || replicas > ODD_STACK_MAX_REPLICAS)
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                   port == ODD_PORT_LAST
                   ? "“%s” does not run replicas: only gateway, read-model, processor and "
                     "metrics-engine do"
                   : "%s: the replica count must be from 1 to %d",
                   service, ODD_STACK_MAX_REPLICAS);
      return FALSE;
    }
  if (g_atomic_int_get (&self->busy))
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_BUSY,
                   "Another up or down is running on this stack; change the replicas after it");
      return FALSE;
    }

  odd_stack_paths_set_replicas (self->paths, port, replicas);
  build_components (self);
  return TRUE;
}

guint
odd_local_stack_get_replicas (OddLocalStack *self,
                              const char    *service)
{
  OddPort port;

  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), 1);

  port = odd_stack_port_for_service (service);
  return port == ODD_PORT_LAST ? 1 : odd_stack_paths_get_replicas (self->paths, port);
}

GStrv
odd_local_stack_dup_names (OddLocalStack *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), NULL);

  for (guint i = 0; i < self->components->len; i++)
    g_strv_builder_add (builder, odd_component_get_name (g_ptr_array_index (self->components, i)));

  return g_strv_builder_end (builder);
}

static OddComponent *
find_component (OddLocalStack *self,
                const char    *name)
{
  for (guint i = 0; i < self->components->len; i++)
    {
      OddComponent *component = g_ptr_array_index (self->components, i);

      if (g_strcmp0 (odd_component_get_name (component), name) == 0)
        return component;
    }

  return NULL;
}

OddComponent *
odd_local_stack_get_component (OddLocalStack *self,
                               const char    *name)
{
  OddComponent *component;

  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), NULL);

  component = find_component (self, name);
  g_return_val_if_fail (component != NULL, NULL);

  return component;
}

/* ------------------------------------------------------------------------------------ */
/* Progress: straight to the callback (blocking calls) or through the caller's context */

typedef struct
{
  OddProgressFunc  func;
  gpointer         data;
  GMainContext    *context;  /* NULL: call directly */
} Reporter;

static void
report (Reporter          *reporter,
        const char        *step,
        OddProgressStatus  status,
        double             fraction,
        const char        *format,
        ...) G_GNUC_PRINTF (5, 6);

static void
report (Reporter          *reporter,
        const char        *step,
        OddProgressStatus  status,
        double             fraction,
        const char        *format,
        ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (reporter != NULL)
    odd_progress_emit (reporter->func, reporter->data, reporter->context,
                       step, status, message, fraction);
}

static gboolean
begin_exclusive (OddLocalStack  *self,
                 GError        **error)
{
  if (!g_atomic_int_compare_and_exchange (&self->busy, 0, 1))
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_BUSY,
                   "Another up or down is running on this stack");
      return FALSE;
    }

  return TRUE;
}

static void
end_exclusive (OddLocalStack *self)
{
  g_atomic_int_set (&self->busy, 0);
}

/* ------------------------------------------------------------------------------------ */
/* up */

/* Running replicas beyond the configured counts: what `up` with fewer replicas stops. */
static GPtrArray *
running_surplus_replicas (OddLocalStack *self)
{
  GPtrArray *surplus = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < G_N_ELEMENTS (component_table); i++)
    {
      OddPort port = component_table[i].port;

      if (component_table[i].kind != ODD_COMPONENT_SERVICE ||
          odd_stack_port_for_service (component_table[i].name) == ODD_PORT_LAST)
        continue;
      for (guint r = odd_stack_paths_get_replicas (self->paths, port) + 1;
           r <= ODD_STACK_MAX_REPLICAS; r++)
        {
          g_autoptr(OddComponent) replica = odd_component_new_replica (component_table[i].name,
                                                                       port, r, self->paths);

          if (odd_component_get_pid (replica) != 0)
            g_ptr_array_add (surplus, g_steal_pointer (&replica));
        }
    }

  return surplus;
}

/* Do the replica counts differ from those of the stack last started here? */
static gboolean
replicas_differ_from_saved (OddLocalStack *self)
{
  g_autoptr(OddStackPaths) saved = odd_stack_paths_load (odd_stack_paths_get_state_dir (self->paths),
                                                         NULL);

  if (saved == NULL)
    return FALSE;
  for (OddPort p = 0; p < ODD_PORT_LAST; p++)
    if (odd_stack_paths_get_replicas (saved, p) != odd_stack_paths_get_replicas (self->paths, p))
      return TRUE;

  return FALSE;
}

gboolean
odd_local_stack_replicas_match_saved (OddLocalStack *self)
{
  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), TRUE);

  return !replicas_differ_from_saved (self);
}

/* Is a replica of @component's service running (holding the service's shared port)? */
static gboolean
sibling_running (OddLocalStack *self,
                 OddComponent  *component)
{
  for (guint i = 0; i < self->components->len; i++)
    {
      OddComponent *other = g_ptr_array_index (self->components, i);

      if (other != component &&
          g_str_equal (odd_component_get_service (other), odd_component_get_service (component)) &&
          odd_component_get_pid (other) != 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
choose_postgres_dir (OddLocalStack  *self,
                     Reporter       *reporter,
                     GError        **error)
{
  g_autofree char *moved_from = NULL;

  if (!odd_stack_paths_ensure_postgres_reachable (self->paths, &moved_from, error))
    return FALSE;
  if (moved_from != NULL)
    report (reporter, "prepare", ODD_PROGRESS_RUNNING, 0.0,
            "the postgres user cannot reach %s; the PostgreSQL cluster lives in %s",
            moved_from, odd_stack_paths_get_postgres_dir (self->paths));

  return TRUE;
}

/* A stack with another port base that still runs from this state dir would share the pid
 * files with this one. */
static gboolean
check_other_base (OddLocalStack  *self,
                  GError        **error)
{
  g_autoptr(OddStackPaths) saved = NULL;
  g_autoptr(OddLocalStack) other = NULL;

  saved = odd_stack_paths_load (odd_stack_paths_get_state_dir (self->paths), NULL);
  if (saved == NULL ||
      odd_stack_paths_get_port_base (saved) == odd_stack_paths_get_port_base (self->paths))
    return TRUE;

  other = odd_local_stack_new (saved);
  for (guint i = 0; i < other->components->len; i++)
    {
      OddComponent *component = g_ptr_array_index (other->components, i);

      if (odd_component_get_pid (component) != 0)
        {
          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                       "The stack in %s runs with port base %d (%s is up); stop it first "
                       "with: ODD_PORT_BASE=%d oddctl local down",
                       odd_stack_paths_get_state_dir (self->paths),
                       odd_stack_paths_get_port_base (saved),
                       odd_component_get_name (component),
                       odd_stack_paths_get_port_base (saved));
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
check_port_free (OddLocalStack  *self,
                 OddComponent   *component,
                 GError        **error)
{
  OddPort service_port = odd_stack_port_for_service (odd_component_get_service (component));
  guint16 port = odd_component_get_port (component);

  /* The shared port of the gateway or read-model: free, or held by a sibling replica. */
  if (odd_component_get_kind (component) == ODD_COMPONENT_SERVICE &&
      service_port != ODD_PORT_LAST && odd_stack_port_is_shared (service_port) &&
      !sibling_running (self, component) &&
      odd_probe_tcp (odd_stack_paths_get_port (self->paths, service_port), NULL))
    port = odd_stack_paths_get_port (self->paths, service_port);
  else if (!odd_probe_tcp (port, NULL))
    return TRUE;

  g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_FAILED,
               "Port %u, which %s needs, is taken by another program; choose other ports "
               "with ODD_PORT_BASE (now %d)", port, odd_component_get_name (component),
               odd_stack_paths_get_port_base (self->paths));
  return FALSE;
}

#define STANDBY_GRACE_MS 5000

/* Ready, or standing by: alive while another replica of its service is ready (a
 * metrics-engine waiting for the event store lock). Waits for one of the two. */
static gboolean
wait_ready_or_standby (OddLocalStack  *self,
                       OddComponent   *component,
                       gboolean       *standby,
                       GCancellable   *cancellable,
                       GError        **error)
{
  const char *service = odd_component_get_service (component);
  guint timeout_ms = odd_component_ready_timeout_ms (component);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  *standby = FALSE;
  /* Returns once it answers /healthz when its service has several replicas. */
  if (!odd_component_wait_ready (component, timeout_ms, cancellable, error))
    return FALSE;
  if (odd_local_stack_get_replicas (self, service) < 2)
    return TRUE;

  /* A replica still connecting gets a moment before it counts as standing by. */
  for (gint64 grace = g_get_monotonic_time () + STANDBY_GRACE_MS * 1000;;)
    {
      if (odd_component_is_healthy (component, cancellable))
        return TRUE;
      for (guint i = 0; i < self->components->len && g_get_monotonic_time () >= grace; i++)
        {
          OddComponent *other = g_ptr_array_index (self->components, i);

          if (other != component && g_str_equal (odd_component_get_service (other), service) &&
              odd_component_is_healthy (other, cancellable))
            {
              *standby = TRUE;
              return TRUE;
            }
        }
      if (odd_component_get_pid (component) == 0 || g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_TIMEOUT,
                       "%s did not get ready within %u s, nor did another replica of %s; "
                       "read its log with: oddctl local logs %s",
                       odd_component_get_name (component), timeout_ms / 1000, service,
                       odd_component_get_name (component));
          return FALSE;
        }
      if (!odd_process_sleep (100, cancellable, error))
        return FALSE;
    }
}

static gboolean
stack_up_locked (OddLocalStack  *self,
                 GCancellable   *cancellable,
                 Reporter       *reporter,
                 GError        **error)
{
  g_autoptr(GPtrArray) started = g_ptr_array_new ();
  g_autoptr(GPtrArray) to_wait = g_ptr_array_new ();
  g_autoptr(GError) local_error = NULL;
  const double total = (self->servers_only ? 3 : self->components->len) + 1;
  gboolean replicas_changed;
  guint done = 0;

  report (reporter, "prepare", ODD_PROGRESS_RUNNING, 0.0, "state in %s, port base %d",
          odd_stack_paths_get_state_dir (self->paths),
          odd_stack_paths_get_port_base (self->paths));

  replicas_changed = replicas_differ_from_saved (self);
  if (!check_other_base (self, &local_error) ||
      !odd_stack_paths_ensure_dirs (self->paths, &local_error) ||
      !choose_postgres_dir (self, reporter, &local_error) ||
      !odd_stack_paths_save (self->paths, &local_error))
    goto failed;

  for (guint i = 0; i < self->components->len; i++)
    {
      OddComponent *component = g_ptr_array_index (self->components, i);

      if (self->servers_only && odd_component_get_kind (component) == ODD_COMPONENT_SERVICE)
        continue;
      if (!odd_component_check_programs (component, &local_error))
        goto failed;
    }

  report (reporter, "prepare", ODD_PROGRESS_OK, ++done / total, "programs found");

  /* Fewer replicas than before: the extra ones go first. */
  if (!self->servers_only)
    {
      g_autoptr(GPtrArray) surplus = running_surplus_replicas (self);

      for (guint i = 0; i < surplus->len; i++)
        {
          OddComponent *component = g_ptr_array_index (surplus, i);

          report (reporter, odd_component_get_name (component), ODD_PROGRESS_RUNNING,
                  done / total, "stopping: only %u of its service asked for",
                  odd_local_stack_get_replicas (self, odd_component_get_service (component)));
          if (!odd_component_stop (component, &local_error))
            goto failed;
          report (reporter, odd_component_get_name (component), ODD_PROGRESS_OK, done / total,
                  "stopped");
        }

      /* The read-model's alerts probe every replica (ODD_SERVICE_URLS, set at its start):
       * after a change it starts again with the new list. */
      for (guint i = 0; replicas_changed && i < self->components->len; i++)
        {
          OddComponent *component = g_ptr_array_index (self->components, i);

          if (!g_str_equal (odd_component_get_service (component), "read-model") ||
              odd_component_get_pid (component) == 0)
            continue;
          report (reporter, odd_component_get_name (component), ODD_PROGRESS_RUNNING,
                  done / total, "restarting: the replicas changed, and its alerts probe each");
          if (!odd_component_stop (component, &local_error))
            goto failed;
        }
    }

  /* Servers: launch all that are down (RabbitMQ first: it boots slowly), then wait for
   * each. Services likewise, once the servers answer. */
  for (int phase = 0; phase < (self->servers_only ? 1 : 2); phase++)
    {
      g_ptr_array_set_size (to_wait, 0);

      for (guint i = 0; i < self->components->len; i++)
        {
          OddComponent *component = g_ptr_array_index (self->components, i);
          const char *name = odd_component_get_name (component);
          gboolean is_service = odd_component_get_kind (component) == ODD_COMPONENT_SERVICE;
          GPid pid;

          if (is_service != (phase == 1))
            continue;

          pid = odd_component_get_pid (component);
          if (pid != 0)
            {
              if (odd_component_is_healthy (component, cancellable))
                {
                  report (reporter, name, ODD_PROGRESS_SKIPPED, ++done / total,
                          "already running (pid %d)", (int) pid);
                  continue;
                }
              /* Alive but not answering: starting, or waiting for a server that just
               * came back. Give it the usual time. */
              report (reporter, name, ODD_PROGRESS_RUNNING, done / total,
                      "running (pid %d) but not ready yet; waiting", (int) pid);
              g_ptr_array_add (to_wait, component);
              continue;
            }

          if (!check_port_free (self, component, &local_error))
            {
              g_prefix_error (&local_error, "%s: ", name);
              goto failed;
            }

          report (reporter, name, ODD_PROGRESS_RUNNING, done / total, "starting on port %u",
                  odd_component_get_port (component));
          g_ptr_array_add (started, component);
          if (!odd_component_launch (component, cancellable, &local_error))
            goto failed;
          g_ptr_array_add (to_wait, component);
        }

      for (guint i = 0; i < to_wait->len; i++)
        {
          OddComponent *component = g_ptr_array_index (to_wait, i);

          gboolean standby;

          if (!wait_ready_or_standby (self, component, &standby, cancellable, &local_error))
            goto failed;
          if (standby)
            report (reporter, odd_component_get_name (component), ODD_PROGRESS_OK, ++done / total,
                    "standing by on port %u (pid %d): another replica is ready; GET /readyz "
                    "says what it waits for", odd_component_get_port (component),
                    (int) odd_component_get_pid (component));
          else
            report (reporter, odd_component_get_name (component), ODD_PROGRESS_OK, ++done / total,
                    "ready on port %u (pid %d)", odd_component_get_port (component),
                    (int) odd_component_get_pid (component));
        }
    }

  return TRUE;

failed:
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Leave the machine as we found it: stop what this call started. */
      for (guint i = started->len; i > 0; i--)
        {
          OddComponent *component = g_ptr_array_index (started, i - 1);
          g_autoptr(GError) stop_error = NULL;

          if (!odd_component_stop (component, &stop_error))
            report (reporter, odd_component_get_name (component), ODD_PROGRESS_FAILED,
                    done / total, "could not stop after cancellation: %s", stop_error->message);
          else
            report (reporter, odd_component_get_name (component), ODD_PROGRESS_OK,
                    done / total, "stopped (cancelled)");
        }
    }
  else
    {
      report (reporter, "up", ODD_PROGRESS_FAILED, done / total, "%s", local_error->message);
    }

  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* down */

static gboolean
stack_down_locked (OddLocalStack  *self,
                   GCancellable   *cancellable,
                   Reporter       *reporter,
                   GError        **error)
{
  g_autoptr(GError) first_error = NULL;
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) surplus = running_surplus_replicas (self);
  double total;
  guint done = 0;
  /* Services first (they hold connections to the servers), then the broker, Redis and
   * PostgreSQL last. */
  static const char * const services[] = {
    "web-terminal", "gateway", "read-model", "metrics-engine", "processor", "rabbitmq", "redis",
    "postgres", NULL,
  };

  /* Replicas beyond the configured count that still run (a stack.json edited by hand)
   * go too. */
  g_ptr_array_extend (order, surplus, (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
  for (guint i = 0; services[i] != NULL; i++)
    for (guint j = self->components->len; j > 0; j--)
      {
        OddComponent *component = g_ptr_array_index (self->components, j - 1);

        if (g_str_equal (odd_component_get_service (component), services[i]))
          g_ptr_array_add (order, g_object_ref (component));
      }
  total = order->len;

  for (guint i = 0; i < order->len; i++)
    {
      OddComponent *component = g_ptr_array_index (order, i);
      const char *name = odd_component_get_name (component);
      g_autoptr(GError) local_error = NULL;
      GPid pid = odd_component_get_pid (component);

      if (pid == 0)
        {
          report (reporter, name, ODD_PROGRESS_SKIPPED, ++done / total, "not running");
          continue;
        }

      report (reporter, name, ODD_PROGRESS_RUNNING, done / total, "stopping (pid %d)",
              (int) pid);
      if (odd_component_stop (component, &local_error))
        {
          report (reporter, name, ODD_PROGRESS_OK, ++done / total, "stopped");
        }
      else
        {
          report (reporter, name, ODD_PROGRESS_FAILED, ++done / total, "%s",
                  local_error->message);
          /* Keep going: stop as much as possible. */
          if (first_error == NULL)
            first_error = g_steal_pointer (&local_error);
        }
    }

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }

  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* status */

JsonNode *
odd_local_stack_status (OddLocalStack *self,
                        GCancellable  *cancellable)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree GPid *pids = NULL;
  g_autofree gboolean *healthy = NULL;

  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), NULL);

  pids = g_new0 (GPid, self->components->len);
  healthy = g_new0 (gboolean, self->components->len);
  for (guint i = 0; i < self->components->len; i++)
    {
      OddComponent *component = g_ptr_array_index (self->components, i);

      pids[i] = odd_component_get_pid (component);
      healthy[i] = pids[i] != 0 && odd_component_is_healthy (component, cancellable);
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "stateDir");
  json_builder_add_string_value (builder, odd_stack_paths_get_state_dir (self->paths));
  json_builder_set_member_name (builder, "portBase");
  json_builder_add_int_value (builder, odd_stack_paths_get_port_base (self->paths));
  json_builder_set_member_name (builder, "replicas");
  json_builder_begin_object (builder);
  for (guint i = 0; i < G_N_ELEMENTS (component_table); i++)
    if (odd_stack_port_for_service (component_table[i].name) != ODD_PORT_LAST)
      {
        json_builder_set_member_name (builder, component_table[i].name);
        json_builder_add_int_value (builder,
                                    odd_stack_paths_get_replicas (self->paths,
                                                                  component_table[i].port));
      }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "components");
  json_builder_begin_array (builder);

  for (guint i = 0; i < self->components->len; i++)
    {
      OddComponent *component = g_ptr_array_index (self->components, i);
      g_autofree char *url = odd_component_dup_url (component);
      g_autofree char *log_file = odd_component_dup_log_file (component);
      GPid pid = pids[i];
      gboolean standby = FALSE;

      /* Alive, not ready, while another replica of its service is: standing by (a
       * metrics-engine waiting for the event store lock), not a fault. */
      for (guint j = 0; j < self->components->len && pid != 0 && !healthy[i] && !standby; j++)
        standby = healthy[j] &&
                  g_str_equal (odd_component_get_service (g_ptr_array_index (self->components, j)),
                               odd_component_get_service (component)) &&
                  odd_probe_http_status (odd_component_get_port (component), "/healthz",
                                         cancellable) == 200;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, odd_component_get_name (component));
      json_builder_set_member_name (builder, "service");
      json_builder_add_string_value (builder, odd_component_get_service (component));
      json_builder_set_member_name (builder, "replica");
      json_builder_add_int_value (builder, odd_component_get_replica (component));
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, url);
      json_builder_set_member_name (builder, "port");
      json_builder_add_int_value (builder, odd_component_get_port (component));
      json_builder_set_member_name (builder, "pid");
      if (pid != 0)
        json_builder_add_int_value (builder, pid);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "healthy");
      json_builder_add_boolean_value (builder, healthy[i]);
      json_builder_set_member_name (builder, "standby");
      json_builder_add_boolean_value (builder, standby);
      json_builder_set_member_name (builder, "log");
      json_builder_add_string_value (builder, log_file);
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* ------------------------------------------------------------------------------------ */
/* One up or down at a time per state dir, also across processes (two terminals, an app and
 * oddctl): an flock on run/oddctl.lock, released when the fd closes (or the process dies). */

static int
lock_state_dir (OddLocalStack  *self,
                GCancellable   *cancellable,
                Reporter       *reporter,
                GError        **error)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *path = NULL;
  gboolean said = FALSE;
  int fd;

  if (!odd_stack_paths_ensure_dirs (self->paths, error))
    return -1;

  run_dir = g_build_filename (odd_stack_paths_get_state_dir (self->paths), "run", NULL);
  path = g_build_filename (run_dir, "oddctl.lock", NULL);
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot open %s: %s", path, g_strerror (saved_errno));
      return -1;
    }

  while (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      if (!said)
        {
          report (reporter, "prepare", ODD_PROGRESS_RUNNING, 0.0,
                  "waiting for another oddctl working on %s",
                  odd_stack_paths_get_state_dir (self->paths));
          said = TRUE;
        }
      if (!odd_process_sleep (200, cancellable, error))
        {
          close (fd);
          return -1;
        }
    }

  return fd;
}

static gboolean
stack_up (OddLocalStack  *self,
          GCancellable   *cancellable,
          Reporter       *reporter,
          GError        **error)
{
  int fd = lock_state_dir (self, cancellable, reporter, error);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = stack_up_locked (self, cancellable, reporter, error);
  close (fd);

  return ok;
}

static gboolean
stack_down (OddLocalStack  *self,
            GCancellable   *cancellable,
            Reporter       *reporter,
            GError        **error)
{
  int fd = lock_state_dir (self, cancellable, reporter, error);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = stack_down_locked (self, cancellable, reporter, error);
  close (fd);

  return ok;
}

/* ------------------------------------------------------------------------------------ */
/* Blocking API */

gboolean
odd_local_stack_up (OddLocalStack    *self,
                    GCancellable     *cancellable,
                    OddProgressFunc   progress,
                    gpointer          progress_data,
                    GError          **error)
{
  Reporter reporter = { progress, progress_data, NULL };
  gboolean ok;

  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), FALSE);

  if (!begin_exclusive (self, error))
    return FALSE;
  ok = stack_up (self, cancellable, &reporter, error);
  end_exclusive (self);

  return ok;
}

gboolean
odd_local_stack_down (OddLocalStack    *self,
                      GCancellable     *cancellable,
                      OddProgressFunc   progress,
                      gpointer          progress_data,
                      GError          **error)
{
  Reporter reporter = { progress, progress_data, NULL };
  gboolean ok;

  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), FALSE);

  if (!begin_exclusive (self, error))
    return FALSE;
  ok = stack_down (self, cancellable, &reporter, error);
  end_exclusive (self);

  return ok;
}

gboolean
odd_local_stack_stop_component (OddLocalStack  *self,
                                const char     *name,
                                GError        **error)
{
  OddComponent *component;

  g_return_val_if_fail (ODD_IS_LOCAL_STACK (self), FALSE);

  component = find_component (self, name);
  if (component == NULL)
    {
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_INVALID,
                   "No component named “%s”", name);
      return FALSE;
    }

  return odd_component_stop (component, error);
}

/* ------------------------------------------------------------------------------------ */
/* Async API: the blocking code on a worker thread */

typedef enum
{
  OP_UP,
  OP_DOWN,
} OpKind;

typedef struct
{
  OpKind    kind;
  Reporter  reporter;
} OpData;

static void
op_data_free (gpointer user_data)
{
  OpData *op = user_data;

  g_clear_pointer (&op->reporter.context, g_main_context_unref);
  g_free (op);
}

static void
op_thread (GTask        *task,
           gpointer      source_object,
           gpointer      task_data,
           GCancellable *cancellable)
{
  OddLocalStack *self = source_object;
  OpData *op = task_data;
  GError *error = NULL;
  gboolean ok;

  if (op->kind == OP_UP)
    ok = stack_up (self, cancellable, &op->reporter, &error);
  else
    ok = stack_down (self, cancellable, &op->reporter, &error);
  end_exclusive (self);

  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
start_op (OddLocalStack       *self,
          OpKind               kind,
          gpointer             source_tag,
          GCancellable        *cancellable,
          OddProgressFunc      progress,
          gpointer             progress_data,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  OpData *op;

  g_task_set_source_tag (task, source_tag);
  /* The thread checks the cancellable itself and stops what it started; returning early
   * would leave half-started servers behind. */
  g_task_set_return_on_cancel (task, FALSE);
  g_task_set_check_cancellable (task, FALSE);

  if (!begin_exclusive (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  op = g_new0 (OpData, 1);
  op->kind = kind;
  op->reporter.func = progress;
  op->reporter.data = progress_data;
  op->reporter.context = g_main_context_ref_thread_default ();
  g_task_set_task_data (task, op, op_data_free);
  g_task_run_in_thread (task, op_thread);
}

void
odd_local_stack_up_async (OddLocalStack       *self,
                          GCancellable        *cancellable,
                          OddProgressFunc      progress,
                          gpointer             progress_data,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (ODD_IS_LOCAL_STACK (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_op (self, OP_UP, odd_local_stack_up_async, cancellable, progress, progress_data,
            callback, user_data);
}

gboolean
odd_local_stack_up_finish (OddLocalStack  *self,
                           GAsyncResult   *result,
                           GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == odd_local_stack_up_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
odd_local_stack_down_async (OddLocalStack       *self,
                            GCancellable        *cancellable,
                            OddProgressFunc      progress,
                            gpointer             progress_data,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (ODD_IS_LOCAL_STACK (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_op (self, OP_DOWN, odd_local_stack_down_async, cancellable, progress, progress_data,
            callback, user_data);
}

gboolean
odd_local_stack_down_finish (OddLocalStack  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == odd_local_stack_down_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
status_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  JsonNode *node = odd_local_stack_status (source_object, cancellable);

  if (g_task_return_error_if_cancelled (task))
    json_node_unref (node);
  else
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
}

void
odd_local_stack_status_async (OddLocalStack       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (ODD_IS_LOCAL_STACK (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, odd_local_stack_status_async);
  g_task_run_in_thread (task, status_thread);
}

JsonNode *
odd_local_stack_status_finish (OddLocalStack  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == odd_local_stack_status_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
