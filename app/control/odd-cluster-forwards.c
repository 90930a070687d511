#define G_LOG_DOMAIN "odd-cluster"

#include <errno.h>

#include "odd-cluster-private.h"
#include "odd-probe.h"
#include "odd-process.h"

/* The UIs that have no host port mapping of their own. */
static const struct
{
  const char *name;
  const char *target;
  guint16     remote_port;
  guint16     local_port;
} forwards[] = {
  /* 3002: the gateway has 3000 on the host already. */
  { "grafana", "svc/grafana", 3000, 3002 },
  { "prometheus", "svc/prometheus", 9090, 9090 },
  { "alertmanager", "svc/alertmanager", 9093, 9093 },
  { "rabbitmq", "svc/rabbitmq", 15672, 15672 },
};

static const char * const forward_names[] = { "grafana", "prometheus", "alertmanager", "rabbitmq", NULL };

/* Serialises this process's reads and rewrites of forwards.json. */
static GMutex store_lock;

const char * const *
odd_cluster_forward_names (void)
{
  return forward_names;
}

static JsonArray *
store_read (OddCluster *self)
{
  g_autofree char *file = odd_cluster_forwards_file (self);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *list;

  /* A missing or damaged file means no forwards: the pids in it could not be trusted. */
  if (!json_parser_load_from_file (parser, file, NULL))
    return json_array_new ();
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (json_node_get_object (root), "forwards") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (root), "forwards")))
    return json_array_new ();

  list = json_object_get_array_member (json_node_get_object (root), "forwards");
  return json_array_ref (list);
}

static gboolean
store_write (OddCluster  *self,
             JsonArray   *list,
             GError     **error)
{
  g_autofree char *file = odd_cluster_forwards_file (self);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *object = json_object_new ();
  g_autofree char *text = NULL;

  json_object_set_array_member (object, "forwards", json_array_ref (list));
  json_node_take_object (root, object);
  text = json_to_string (root, TRUE);

  if (g_mkdir_with_parents (odd_cluster_get_state_dir (self), 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot create %s: %s", odd_cluster_get_state_dir (self), g_strerror (saved_errno));
      return FALSE;
    }

  return g_file_set_contents (file, text, -1, error);
}

static gboolean
record_alive (JsonObject *record)
{
  gint64 pid = json_object_get_int_member_with_default (record, "pid", 0);

  /* The command name guards against a pid reused by another program after a reboot. */
  return pid > 0 && pid <= G_MAXINT && odd_process_is_alive ((GPid) pid, "kubectl");
}

/* The alive records; rewrites the file when stale ones were dropped. */
static JsonArray *
store_alive (OddCluster  *self,
             GError     **error)
{
  g_autoptr(JsonArray) all = store_read (self);
  g_autoptr(JsonArray) alive = json_array_new ();

  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonNode *element = json_array_get_element (all, i);

      if (JSON_NODE_HOLDS_OBJECT (element) && record_alive (json_node_get_object (element)))
        json_array_add_element (alive, json_node_copy (element));
    }

  if (json_array_get_length (alive) != json_array_get_length (all) &&
      !store_write (self, alive, error))
    return NULL;

  return g_steal_pointer (&alive);
}

JsonNode *
odd_cluster_forward_list (OddCluster  *self,
                          GError     **error)
{
  g_autoptr(JsonArray) alive = NULL;
  JsonObject *object;
  JsonNode *node;

  g_return_val_if_fail (ODD_IS_CLUSTER (self), NULL);

  g_mutex_lock (&store_lock);
  alive = store_alive (self, error);
  g_mutex_unlock (&store_lock);
  if (alive == NULL)
    return NULL;

  object = json_object_new ();
  json_object_set_array_member (object, "forwards", g_steal_pointer (&alive));
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);
  return node;
}

int
odd_cluster_forward_stop (OddCluster  *self,
                          const char  *name,
                          GError     **error)
{
  g_autoptr(JsonArray) alive = NULL;
  g_autoptr(JsonArray) kept = json_array_new ();
  int stopped = 0;

  g_return_val_if_fail (ODD_IS_CLUSTER (self), -1);

  g_mutex_lock (&store_lock);
  alive = store_alive (self, error);
  if (alive == NULL)
    {
      g_mutex_unlock (&store_lock);
      return -1;
    }

  for (guint i = 0; i < json_array_get_length (alive); i++)
    {
      JsonObject *record = json_array_get_object_element (alive, i);
      g_autoptr(GError) local_error = NULL;

      if (name != NULL && g_strcmp0 (json_object_get_string_member_with_default (record, "name", ""), name) != 0)
        {
          json_array_add_object_element (kept, json_object_ref (record));
          continue;
        }
      if (!odd_process_terminate ((GPid) json_object_get_int_member (record, "pid"), "kubectl", 3000,
                                  &local_error))
        {
          /* Keep the record of a forward that would not stop, so that it can be retried. */
          json_array_add_object_element (kept, json_object_ref (record));
          g_propagate_error (error, g_steal_pointer (&local_error));
          store_write (self, kept, NULL);
          g_mutex_unlock (&store_lock);
          return -1;
        }
      stopped++;
    }

  if (stopped > 0 && !store_write (self, kept, error))
    stopped = -1;
  g_mutex_unlock (&store_lock);

  return stopped;
}

static gboolean
add_record (OddCluster  *self,
            JsonObject  *record,
            GError     **error)
{
  g_autoptr(JsonArray) alive = NULL;
  gboolean ok;

  g_mutex_lock (&store_lock);
  alive = store_alive (self, error);
  ok = alive != NULL;
  if (ok)
    {
      json_array_add_object_element (alive, json_object_ref (record));
      ok = store_write (self, alive, error);
    }
  g_mutex_unlock (&store_lock);

  return ok;
}

static void
remove_record (OddCluster *self,
               gint64      pid)
{
  g_autoptr(JsonArray) all = NULL;
  g_autoptr(JsonArray) kept = json_array_new ();

  g_mutex_lock (&store_lock);
  all = store_read (self);
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonNode *element = json_array_get_element (all, i);

      if (JSON_NODE_HOLDS_OBJECT (element) &&
          json_object_get_int_member_with_default (json_node_get_object (element), "pid", 0) != pid)
        json_array_add_element (kept, json_node_copy (element));
    }
  store_write (self, kept, NULL);
  g_mutex_unlock (&store_lock);
}

static OddClusterError
classify_forward (const char *output)
{
  /* kubectl: error: context "kind-task-observatory" does not exist */
  if (strstr (output, "context") != NULL && strstr (output, "does not exist") != NULL)
    return ODD_CLUSTER_ERROR_NO_CLUSTER;
  return odd_cluster_classify (output, ODD_CLUSTER_ERROR_FAILED);
}

static JsonNode *
record_node (JsonObject *record)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, record);
  return node;
}

JsonNode *
odd_cluster_forward_start_run (OddClusterOp  *op,
                               const char    *name,
                               GError       **error)
{
  static const char * const tools[] = { "kubectl", NULL };
  OddCluster *self = op->cluster;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonObject) record = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *logs_dir = NULL;
  g_autofree char *log_file = NULL;
  g_autofree char *ports = NULL;
  g_autofree char *url = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *started = g_date_time_format_iso8601 (now);
  gint64 deadline;
  guint16 local_port;
  GPid pid;
  guint index = G_N_ELEMENTS (forwards);

  op->step = "forward";
  for (guint i = 0; i < G_N_ELEMENTS (forwards); i++)
    if (g_strcmp0 (forwards[i].name, name) == 0)
      index = i;
  if (index == G_N_ELEMENTS (forwards))
    {
      g_autofree char *detail = g_strdup_printf ("Unknown forward “%s”; one of: grafana, prometheus, "
                                                 "alertmanager, rabbitmq", name);

      odd_cluster_fail (op, ODD_CLUSTER_ERROR_INVALID, NULL, detail, error);
      return NULL;
    }
  if (!odd_cluster_find_tools (op, tools, error))
    return NULL;

  list = odd_cluster_forward_list (self, &local_error);
  if (list == NULL)
    {
      odd_cluster_fail_plain (op, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  {
    JsonArray *alive = json_object_get_array_member (json_node_get_object (list), "forwards");

    for (guint i = 0; i < json_array_get_length (alive); i++)
      {
        JsonObject *existing = json_array_get_object_element (alive, i);

        if (g_strcmp0 (json_object_get_string_member_with_default (existing, "name", ""), name) == 0)
          {
            op->fraction = 1.0;
            odd_cluster_op_report (op, ODD_PROGRESS_SKIPPED, "%s is forwarded already: %s (pid %" G_GINT64_FORMAT ")",
                                   name, json_object_get_string_member_with_default (existing, "url", ""),
                                   json_object_get_int_member (existing, "pid"));
            return record_node (json_object_ref (existing));
          }
      }
  }

  local_port = odd_cluster_get_forward_port (self, name, forwards[index].local_port);
  if (odd_probe_tcp (local_port, op->cancellable))
    {
      g_autofree char *port = g_strdup_printf ("%u", local_port);
      g_autofree char *detail = g_strdup_printf ("Local port %u for the %s forward is in use", local_port, name);

      odd_cluster_fail (op, ODD_CLUSTER_ERROR_PORT_IN_USE, port, detail, error);
      return NULL;
    }

  logs_dir = g_build_filename (odd_cluster_get_state_dir (self), "logs", NULL);
  log_file = g_strdup_printf ("%s/forward-%s.log", logs_dir, name);
  ports = g_strdup_printf ("%u:%u", local_port, forwards[index].remote_port);
  url = g_strdup_printf ("http://127.0.0.1:%u", local_port);
  if (g_mkdir_with_parents (logs_dir, 0700) != 0)
    {
      g_autofree char *detail = g_strdup_printf ("Cannot create %s: %s", logs_dir, g_strerror (errno));

      odd_cluster_fail (op, ODD_CLUSTER_ERROR_INVALID, NULL, detail, error);
      return NULL;
    }

  {
    /* Detached (own session, output to its log): it keeps forwarding after oddctl exits,
     * until `forward stop` or `down`. */
    const char * const argv[] = {
      odd_cluster_get_tool_path (self, "kubectl"), "--context", odd_cluster_get_context (self),
      "-n", "odd", "port-forward", "--address", "127.0.0.1", forwards[index].target, ports, NULL,
    };

    odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "kubectl port-forward %s %s", forwards[index].target, ports);
    child = odd_process_spawn (argv, NULL, NULL, log_file, &local_error);
  }
  if (child == NULL)
    {
      odd_cluster_fail_plain (op, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (g_subprocess_get_identifier (child) == NULL)
    {
      /* It exited (and was reaped) already. */
      g_autofree char *tail = odd_process_log_tail (log_file, 5);
      g_autofree char *detail = g_strdup_printf ("kubectl port-forward %s %s exited: %s",
                                                 forwards[index].target, ports, g_strstrip (tail));

      odd_cluster_fail (op, classify_forward (tail), forwards[index].target, detail, error);
      return NULL;
    }
  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (child), NULL, 10);

  record = json_object_new ();
  json_object_set_string_member (record, "name", name);
  json_object_set_int_member (record, "pid", pid);
  json_object_set_int_member (record, "localPort", local_port);
  json_object_set_string_member (record, "target", forwards[index].target);
  json_object_set_string_member (record, "url", url);
  json_object_set_string_member (record, "log", log_file);
  json_object_set_string_member (record, "startedAt", started);
  if (!add_record (self, record, &local_error))
    {
      odd_process_terminate (pid, "kubectl", 3000, NULL);
      odd_cluster_fail_plain (op, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (!odd_probe_tcp (local_port, op->cancellable))
    {
      gboolean alive = odd_process_is_alive (pid, "kubectl");

      if (!alive || g_get_monotonic_time () >= deadline ||
          g_cancellable_is_cancelled (op->cancellable))
        {
          g_autofree char *tail = odd_process_log_tail (log_file, 5);

          odd_process_terminate (pid, "kubectl", 3000, NULL);
          remove_record (self, pid);
          if (g_cancellable_set_error_if_cancelled (op->cancellable, &local_error))
            {
              odd_cluster_fail_plain (op, local_error);
              g_propagate_error (error, g_steal_pointer (&local_error));
            }
          else
            {
              g_autofree char *detail = g_strdup_printf ("kubectl port-forward %s %s %s%s%s", forwards[index].target,
                                                         ports, alive ? "did not listen within 15 s" : "exited",
                                                         *tail != '\0' ? ": " : "", g_strstrip (tail));

              odd_cluster_fail (op, classify_forward (tail), forwards[index].target, detail, error);
            }
          return NULL;
        }
      g_usleep (G_USEC_PER_SEC / 5);
    }

  op->fraction = 1.0;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "%s forwarded to %s (pid %d)", name, url, (int) pid);
  return record_node (g_steal_pointer (&record));
}
