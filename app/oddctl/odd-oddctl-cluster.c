#define G_LOG_DOMAIN "odd-oddctl"

#include <stdio.h>
#include <string.h>
#include <glib-unix.h>

#include "odd-cluster.h"
#include "odd-oddctl.h"

typedef struct
{
  GMainLoop    *loop;
  GCancellable *cancellable;
  OddCluster   *cluster;
  gboolean      json;
  gboolean      ok;
  GError       *error;
  JsonNode     *result;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->loop, g_main_loop_unref);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->cluster);
  g_clear_error (&run->error);
  g_clear_pointer (&run->result, json_node_unref);
}

static gboolean
on_signal (gpointer user_data)
{
  Run *run = user_data;

  if (!g_cancellable_is_cancelled (run->cancellable))
    {
      fprintf (stderr, "oddctl: interrupted; stopping the running command…\n");
      g_cancellable_cancel (run->cancellable);
    }

  return G_SOURCE_CONTINUE;
}

/* One compact JSON object on a line. @fraction < 0: none. It is spliced in by hand because
 * json-glib prints doubles with 17 digits (0.050000000000000003). */
static void
print_json_line (JsonObject *object,
                 double      fraction)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  gsize len;

  json_node_set_object (node, object);
  text = json_to_string (node, FALSE);
  len = strlen (text);
  if (fraction >= 0 && len >= 2 && text[len - 1] == '}')
    {
      char number[G_ASCII_DTOSTR_BUF_SIZE];

      text[len - 1] = '\0';
      g_ascii_formatd (number, sizeof number, "%.3f", fraction);
      printf ("%s%s\"fraction\":%s}\n", text, len > 2 ? "," : "", number);
    }
  else
    printf ("%s\n", text);
  fflush (stdout);
}

static void
on_progress (const char        *step,
             OddProgressStatus  status,
             const char        *message,
             double             fraction,
             gpointer           user_data)
{
  Run *run = user_data;
  const char *mark;

  /* The failure is printed once, with its hint and remediation, when the command ends. */
  if (status == ODD_PROGRESS_FAILED)
    return;

  if (run->json)
    {
      g_autoptr(JsonObject) line = json_object_new ();

      json_object_set_string_member (line, "step", step);
      json_object_set_string_member (line, "status", odd_progress_status_to_string (status));
      json_object_set_string_member (line, "message", message);
      print_json_line (line, fraction);
      return;
    }

  switch (status)
    {
    case ODD_PROGRESS_OK:
      mark = "ok  ";
      break;
    case ODD_PROGRESS_SKIPPED:
      mark = "--  ";
      break;
    case ODD_PROGRESS_RUNNING:
    default:
      mark = "..  ";
      break;
    }

  printf ("[%3d%%] %s %-9s %s\n", (int) (fraction * 100 + 0.5), mark, step, message);
  fflush (stdout);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Run *run = user_data;
  OddCluster *cluster = ODD_CLUSTER (source);
  gpointer tag = g_task_get_source_tag (G_TASK (result));

  if (tag == odd_cluster_up_async)
    run->ok = odd_cluster_up_finish (cluster, result, &run->error);
  else if (tag == odd_cluster_down_async)
    run->ok = odd_cluster_down_finish (cluster, result, &run->error);
  else if (tag == odd_cluster_status_async)
    run->ok = (run->result = odd_cluster_status_finish (cluster, result, &run->error)) != NULL;
  else
    run->ok = (run->result = odd_cluster_forward_start_finish (cluster, result, &run->error)) != NULL;

  g_main_loop_quit (run->loop);
}

static gboolean
run_init (Run      *run,
          gboolean  json)
{
  run->json = json;
  run->loop = g_main_loop_new (NULL, FALSE);
  run->cancellable = g_cancellable_new ();
  run->cluster = odd_cluster_new_from_env (&run->error);
  if (run->cluster == NULL)
    {
      fprintf (stderr, "oddctl: %s\n", run->error->message);
      return FALSE;
    }

  return TRUE;
}

static void
run_loop (Run *run)
{
  guint sigint = g_unix_signal_add (SIGINT, on_signal, run);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, run);

  g_main_loop_run (run->loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
}

/* The error with what it means and what to do: one JSON line, or text on stderr. */
static int
report_failure (Run *run)
{
  JsonObject *failure = odd_cluster_get_failure (run->cluster);

  if (run->json)
    {
      g_autoptr(JsonObject) line = json_object_new ();
      const char *step = failure != NULL
                         ? json_object_get_string_member_with_default (failure, "step", "oddctl") : "oddctl";

      json_object_set_string_member (line, "step", step);
      json_object_set_string_member (line, "status", odd_progress_status_to_string (ODD_PROGRESS_FAILED));
      json_object_set_string_member (line, "message", run->error->message);
      if (failure != NULL)
        {
          if (json_object_has_member (failure, "code"))
            json_object_set_string_member (line, "code", json_object_get_string_member (failure, "code"));
          if (json_object_has_member (failure, "hint"))
            json_object_set_string_member (line, "hint", json_object_get_string_member (failure, "hint"));
          if (json_object_has_member (failure, "remediation"))
            json_object_set_member (line, "remediation",
                                    json_node_copy (json_object_get_member (failure, "remediation")));
        }
      print_json_line (line, -1);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  fprintf (stderr, "\noddctl: %s\n", run->error->message);
  if (failure != NULL && json_object_has_member (failure, "hint"))
    fprintf (stderr, "Hint: %s\n", json_object_get_string_member (failure, "hint"));
  if (failure != NULL && json_object_has_member (failure, "remediation"))
    {
      JsonArray *steps = json_object_get_array_member (failure, "remediation");

      if (json_array_get_length (steps) > 0)
        fprintf (stderr, "What to do:\n");
      for (guint i = 0; i < json_array_get_length (steps); i++)
        fprintf (stderr, "  %u. %s\n", i + 1, json_array_get_string_element (steps, i));
    }

  return ODD_ODDCTL_EXIT_FAILURE;
}

static int
cluster_up_or_down (gboolean up,
                    gboolean json)
{
  Run run = { 0 };
  int code = ODD_ODDCTL_EXIT_OK;

  if (!run_init (&run, json))
    {
      run_clear (&run);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  if (up)
    odd_cluster_up_async (run.cluster, run.cancellable, on_progress, &run, on_done, &run);
  else
    odd_cluster_down_async (run.cluster, run.cancellable, on_progress, &run, on_done, &run);
  run_loop (&run);

  if (!run.ok)
    code = report_failure (&run);
  else if (!json && up)
    printf ("\nThe cluster %s is up (context %s).\n"
            "  gateway     http://127.0.0.1:%u\n"
            "  read-model  http://127.0.0.1:%u\n"
            "Submit a job:\n"
            "  curl -s -X POST http://127.0.0.1:%u/jobs -H 'Content-Type: application/json' "
            "-d '{\"type\":\"demo\",\"payload\":{\"simulate\":{\"durationMs\":500}}}'\n"
            "Other UIs: oddctl cluster forward start grafana|prometheus|alertmanager|rabbitmq\n"
            "Stop everything with: oddctl cluster down\n",
            odd_cluster_get_name (run.cluster), odd_cluster_get_context (run.cluster),
            odd_cluster_get_gateway_port (run.cluster), odd_cluster_get_read_model_port (run.cluster),
            odd_cluster_get_gateway_port (run.cluster));
  else if (!json)
    printf ("\nThe cluster %s is deleted.\n", odd_cluster_get_name (run.cluster));

  run_clear (&run);
  return code;
}

static void
print_forwards (JsonArray *forwards)
{
  if (json_array_get_length (forwards) == 0)
    {
      printf ("No port-forwards (start one: oddctl cluster forward start grafana)\n");
      return;
    }

  printf ("%-13s %-24s %-8s %s\n", "FORWARD", "URL", "PID", "TARGET");
  for (guint i = 0; i < json_array_get_length (forwards); i++)
    {
      JsonObject *f = json_array_get_object_element (forwards, i);

      printf ("%-13s %-24s %-8" G_GINT64_FORMAT " %s\n",
              json_object_get_string_member_with_default (f, "name", ""),
              json_object_get_string_member_with_default (f, "url", ""),
              json_object_get_int_member_with_default (f, "pid", 0),
              json_object_get_string_member_with_default (f, "target", ""));
    }
}

static int
cluster_status (gboolean json)
{
  Run run = { 0 };
  JsonObject *status;
  JsonArray *nodes, *workloads;
  gboolean healthy;

  /* Status has no steps worth showing: --json prints only the result object. */
  if (!run_init (&run, json))
    {
      run_clear (&run);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  odd_cluster_status_async (run.cluster, run.cancellable, NULL, NULL, on_done, &run);
  run_loop (&run);
  if (!run.ok)
    {
      int code = report_failure (&run);

      run_clear (&run);
      return code;
    }

  status = json_node_get_object (run.result);
  nodes = json_object_get_array_member (status, "nodes");
  workloads = json_object_get_array_member (status, "workloads");
  healthy = json_object_get_boolean_member (status, "exists") && json_array_get_length (workloads) > 0;
  for (guint i = 0; i < json_array_get_length (nodes); i++)
    healthy &= json_object_get_boolean_member (json_array_get_object_element (nodes, i), "ready");
  for (guint i = 0; i < json_array_get_length (workloads); i++)
    {
      JsonObject *w = json_array_get_object_element (workloads, i);

      healthy &= json_object_get_int_member (w, "ready") >= json_object_get_int_member (w, "desired");
    }

  if (json)
    {
      g_autofree char *text = json_to_string (run.result, TRUE);

      printf ("%s\n", text);
    }
  else if (!json_object_get_boolean_member (status, "exists"))
    {
      printf ("No kind cluster %s (create it: oddctl cluster up)\n",
              json_object_get_string_member (status, "cluster"));
      print_forwards (json_object_get_array_member (status, "forwards"));
    }
  else
    {
      JsonObject *urls = json_object_get_object_member (status, "urls");

      printf ("Cluster %s (context %s)\n\n", json_object_get_string_member (status, "cluster"),
              json_object_get_string_member (status, "context"));
      printf ("%-28s %s\n", "NODE", "READY");
      for (guint i = 0; i < json_array_get_length (nodes); i++)
        {
          JsonObject *n = json_array_get_object_element (nodes, i);

          printf ("%-28s %s\n", json_object_get_string_member (n, "name"),
                  json_object_get_boolean_member (n, "ready") ? "yes" : "NO");
        }
      /* AUTOSCALED: the replica range of its HorizontalPodAutoscaler; EVICTABLE: the pods a
       * node drain may evict now under its PodDisruptionBudget. */
      printf ("\n%-28s %-7s %-9s %-11s %s\n", "WORKLOAD", "READY", "RESTARTS", "AUTOSCALED", "EVICTABLE");
      for (guint i = 0; i < json_array_get_length (workloads); i++)
        {
          JsonObject *w = json_array_get_object_element (workloads, i);
          JsonObject *autoscaler = json_object_has_member (w, "autoscaler")
                                   ? json_object_get_object_member (w, "autoscaler") : NULL;
          g_autofree char *name = g_strdup_printf ("%s/%s", json_object_get_string_member (w, "kind"),
                                                   json_object_get_string_member (w, "name"));
          g_autofree char *ready = g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                                    json_object_get_int_member (w, "ready"),
                                                    json_object_get_int_member (w, "desired"));
          g_autofree char *range = autoscaler != NULL
            ? g_strdup_printf ("%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT,
                               json_object_get_int_member (autoscaler, "min"),
                               json_object_get_int_member (autoscaler, "max"))
            : g_strdup ("-");
          g_autofree char *evictable = json_object_has_member (w, "disruptionsAllowed")
            ? g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (w, "disruptionsAllowed"))
            : g_strdup ("-");

          printf ("%-28s %-7s %-9" G_GINT64_FORMAT " %-11s %s\n", name, ready,
                  json_object_get_int_member (w, "restarts"), range, evictable);
        }
      printf ("\ngateway     %s\nread-model  %s\n\n", json_object_get_string_member (urls, "gateway"),
              json_object_get_string_member (urls, "readModel"));
      print_forwards (json_object_get_array_member (status, "forwards"));
    }

  run_clear (&run);
  return healthy ? ODD_ODDCTL_EXIT_OK : ODD_ODDCTL_EXIT_FAILURE;
}

static int
forward_start (const char *name,
               gboolean    json)
{
  Run run = { 0 };
  int code = ODD_ODDCTL_EXIT_OK;

  if (!run_init (&run, json))
    {
      run_clear (&run);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  odd_cluster_forward_start_async (run.cluster, name, run.cancellable, on_progress, &run, on_done, &run);
  run_loop (&run);
  if (!run.ok)
    code = report_failure (&run);
  else if (!json)
    printf ("%s: %s (stop it with: oddctl cluster forward stop %s)\n", name,
            json_object_get_string_member (json_node_get_object (run.result), "url"), name);

  run_clear (&run);
  return code;
}

static int
forward_list_or_stop (const char *name,
                      gboolean    stop,
                      gboolean    json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddCluster) cluster = odd_cluster_new_from_env (&error);
  g_autoptr(JsonNode) list = NULL;

  if (cluster == NULL)
    {
      fprintf (stderr, "oddctl: %s\n", error->message);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  if (stop)
    {
      int stopped = odd_cluster_forward_stop (cluster, name, &error);

      if (stopped < 0)
        {
          fprintf (stderr, "oddctl: %s\n", error->message);
          return ODD_ODDCTL_EXIT_FAILURE;
        }
      if (json)
        printf ("{\"stopped\":%d}\n", stopped);
      else
        printf ("Stopped %d port-forward%s.\n", stopped, stopped == 1 ? "" : "s");
      return ODD_ODDCTL_EXIT_OK;
    }

  list = odd_cluster_forward_list (cluster, &error);
  if (list == NULL)
    {
      fprintf (stderr, "oddctl: %s\n", error->message);
      return ODD_ODDCTL_EXIT_FAILURE;
    }
  if (json)
    {
      g_autofree char *text = json_to_string (list, TRUE);

      printf ("%s\n", text);
    }
  else
    print_forwards (json_object_get_array_member (json_node_get_object (list), "forwards"));

  return ODD_ODDCTL_EXIT_OK;
}

static int usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format,
             ...)
{
  va_list args;

  fprintf (stderr, "oddctl: ");
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fprintf (stderr, "\n\n");
  odd_oddctl_print_usage (stderr);
  return ODD_ODDCTL_EXIT_USAGE;
}

int
odd_oddctl_cluster_run (int    argc,
                        char **argv)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new ();
  gboolean json = FALSE;
  const char *command;

  /* --json may come anywhere after "cluster". */
  for (int i = 0; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--json"))
        json = TRUE;
      else if (g_str_equal (argv[i], "--help") || g_str_equal (argv[i], "-h"))
        {
          odd_oddctl_print_usage (stdout);
          return ODD_ODDCTL_EXIT_OK;
        }
      else if (argv[i][0] == '-')
        return usage_error ("unknown option “%s”", argv[i]);
      else
        g_ptr_array_add (words, argv[i]);
    }

  if (words->len == 0)
    return usage_error ("%s", "cluster needs a command: up, status, forward or down");
  command = g_ptr_array_index (words, 0);

  if (g_str_equal (command, "up") || g_str_equal (command, "down") || g_str_equal (command, "status"))
    {
      if (words->len > 1)
        return usage_error ("unexpected argument “%s”", (char *) g_ptr_array_index (words, 1));
      if (g_str_equal (command, "status"))
        return cluster_status (json);
      return cluster_up_or_down (g_str_equal (command, "up"), json);
    }

  if (g_str_equal (command, "forward"))
    {
      const char *action = words->len > 1 ? g_ptr_array_index (words, 1) : NULL;
      const char *name = words->len > 2 ? g_ptr_array_index (words, 2) : NULL;

      if (words->len > 3)
        return usage_error ("unexpected argument “%s”", (char *) g_ptr_array_index (words, 3));
      if (action == NULL)
        return usage_error ("%s", "forward needs an action: start NAME, list or stop [NAME]");
      if (name != NULL && !g_strv_contains (odd_cluster_forward_names (), name))
        {
          g_autofree char *names = g_strjoinv (", ", (char **) odd_cluster_forward_names ());

          return usage_error ("unknown forward “%s”; one of: %s", name, names);
        }
      if (g_str_equal (action, "start"))
        {
          if (name == NULL)
            return usage_error ("%s", "forward start needs a name: grafana, prometheus, alertmanager or rabbitmq");
          return forward_start (name, json);
        }
      if (g_str_equal (action, "list"))
        {
          if (name != NULL)
            return usage_error ("unexpected argument “%s”", name);
          return forward_list_or_stop (NULL, FALSE, json);
        }
      if (g_str_equal (action, "stop"))
        return forward_list_or_stop (name, TRUE, json);
      return usage_error ("unknown forward action “%s”", action);
    }

  return usage_error ("unknown cluster command “%s”", command);
}
