#define G_LOG_DOMAIN "odd-oddctl"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include "odd-local-stack.h"
#include "odd-oddctl.h"

typedef struct
{
  GMainLoop     *loop;
  GCancellable  *cancellable;
  OddLocalStack *stack;
  gboolean       ok;
  GError        *error;
  JsonNode      *status;
  gboolean       json;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->loop, g_main_loop_unref);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->stack);
  g_clear_error (&run->error);
  g_clear_pointer (&run->status, json_node_unref);
}

static gboolean
on_signal (gpointer user_data)
{
  Run *run = user_data;

  if (!g_cancellable_is_cancelled (run->cancellable))
    {
      fprintf (stderr, "oddctl: interrupted; stopping what this command started…\n");
      g_cancellable_cancel (run->cancellable);
    }

  return G_SOURCE_CONTINUE;
}

static void
on_progress (const char        *step,
             OddProgressStatus  status,
             const char        *message,
             double             fraction,
             gpointer           user_data)
{
  const char *mark;

  switch (status)
    {
    case ODD_PROGRESS_OK:
      mark = "ok  ";
      break;
    case ODD_PROGRESS_SKIPPED:
      mark = "--  ";
      break;
    case ODD_PROGRESS_FAILED:
      mark = "FAIL";
      break;
    case ODD_PROGRESS_RUNNING:
    default:
      mark = "..  ";
      break;
    }

  /* The failure itself is printed once, with the error, when the command ends. */
  if (status == ODD_PROGRESS_FAILED && g_str_equal (step, "up"))
    return;

  printf ("[%3d%%] %s %-17s %s\n", (int) (fraction * 100 + 0.5), mark, step, message);
  fflush (stdout);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Run *run = user_data;
  OddLocalStack *stack = ODD_LOCAL_STACK (source);

  if (g_task_get_source_tag (G_TASK (result)) == odd_local_stack_up_async)
    run->ok = odd_local_stack_up_finish (stack, result, &run->error);
  else if (g_task_get_source_tag (G_TASK (result)) == odd_local_stack_down_async)
    run->ok = odd_local_stack_down_finish (stack, result, &run->error);
  else
    {
      run->status = odd_local_stack_status_finish (stack, result, &run->error);
      run->ok = run->status != NULL;
    }

  g_main_loop_quit (run->loop);
}

static gboolean
run_init (Run *run)
{
  run->loop = g_main_loop_new (NULL, FALSE);
  run->cancellable = g_cancellable_new ();
  run->stack = odd_local_stack_new_from_env (&run->error);
  if (run->stack == NULL)
    {
      fprintf (stderr, "oddctl: %s\n", run->error->message);
      return FALSE;
    }

  return TRUE;
}

/* --replicas, already checked: applied to the stack that `up` starts. */
static gboolean
apply_replicas (OddLocalStack  *stack,
                const guint     counts[ODD_PORT_LAST],
                GError        **error)
{
  for (OddPort p = 0; p < ODD_PORT_LAST; p++)
    if (counts[p] != 0 &&
        !odd_local_stack_set_replicas (stack, odd_stack_port_name (p), counts[p], error))
      return FALSE;

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

static void
print_endpoints (OddLocalStack *stack)
{
  OddStackPaths *paths = odd_local_stack_get_paths (stack);
  g_autofree char *gateway = odd_stack_paths_http_url (paths, ODD_PORT_GATEWAY);
  g_autofree char *read_model = odd_stack_paths_http_url (paths, ODD_PORT_READ_MODEL);
  g_auto(GStrv) names = odd_local_stack_dup_names (stack);

  printf ("\nThe local stack is up (state in %s).\n\n", odd_stack_paths_get_state_dir (paths));
  for (guint i = 0; names[i] != NULL; i++)
    {
      OddComponent *component = odd_local_stack_get_component (stack, names[i]);
      g_autofree char *url = odd_component_dup_url (component);
      g_autofree char *own = g_strdup_printf ("http://127.0.0.1:%u",
                                              odd_component_get_port (component));

      /* A replica of a shared port also answers alone on its own. */
      if (odd_component_get_kind (component) == ODD_COMPONENT_SERVICE && !g_str_equal (url, own))
        printf ("  %-17s %s (this replica alone: %s)\n", names[i], url, own);
      else
        printf ("  %-17s %s\n", names[i], url);
    }

  printf ("\nSubmit a job:\n"
          "  curl -s -X POST %s/jobs -H 'Content-Type: application/json' "
          "-d '{\"type\":\"demo\",\"payload\":{\"simulate\":{\"durationMs\":500}}}'\n"
          "Watch it:\n"
          "  curl -s %s/jobs/recent\n"
          "  curl -s %s/stats\n"
          "Stop everything with: oddctl local down\n",
          gateway, read_model, read_model);
}

static int
local_up_or_down (gboolean     up,
                  const guint  replicas[ODD_PORT_LAST])
{
  Run run = { 0 };
  int code;

  if (!run_init (&run) || (replicas != NULL && !apply_replicas (run.stack, replicas, &run.error)))
    {
      if (run.stack != NULL)
        fprintf (stderr, "oddctl: %s\n", run.error->message);
      run_clear (&run);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  if (up)
    odd_local_stack_up_async (run.stack, run.cancellable, on_progress, NULL, on_done, &run);
  else
    odd_local_stack_down_async (run.stack, run.cancellable, on_progress, NULL, on_done, &run);
  run_loop (&run);

  if (run.ok)
    {
      if (up)
        print_endpoints (run.stack);
      else
        printf ("\nThe local stack is stopped; its data stays in %s.\n",
                odd_stack_paths_get_state_dir (odd_local_stack_get_paths (run.stack)));
      code = ODD_ODDCTL_EXIT_OK;
    }
  else
    {
      fprintf (stderr, "oddctl: %s\n", run.error->message);
      code = ODD_ODDCTL_EXIT_FAILURE;
    }

  run_clear (&run);
  return code;
}

static int
local_status (gboolean json)
{
  Run run = { 0 };
  JsonArray *components;
  gboolean all_healthy = TRUE;

  if (!run_init (&run))
    {
      run_clear (&run);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  odd_local_stack_status_async (run.stack, run.cancellable, on_done, &run);
  run_loop (&run);

  if (!run.ok)
    {
      fprintf (stderr, "oddctl: %s\n", run.error->message);
      run_clear (&run);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  components = json_object_get_array_member (json_node_get_object (run.status), "components");
  for (guint i = 0; i < json_array_get_length (components); i++)
    {
      JsonObject *c = json_array_get_object_element (components, i);

      if (!json_object_get_boolean_member (c, "healthy") &&
          !json_object_get_boolean_member_with_default (c, "standby", FALSE))
        all_healthy = FALSE;
    }

  if (json)
    {
      g_autofree char *text = json_to_string (run.status, TRUE);

      printf ("%s\n", text);
    }
  else
    {
      printf ("%-17s %-9s %-8s %-6s %s\n", "COMPONENT", "STATE", "PID", "PORT", "URL");
      for (guint i = 0; i < json_array_get_length (components); i++)
        {
          JsonObject *c = json_array_get_object_element (components, i);
          gboolean has_pid = !json_object_get_null_member (c, "pid");
          g_autofree char *pid = has_pid
            ? g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (c, "pid"))
            : g_strdup ("-");
          const char *state = json_object_get_boolean_member (c, "healthy") ? "healthy"
                              : json_object_get_boolean_member_with_default (c, "standby", FALSE)
                              ? "standby"
                              : has_pid ? "unhealthy" : "stopped";

          printf ("%-17s %-9s %-8s %-6" G_GINT64_FORMAT " %s\n",
                  json_object_get_string_member (c, "name"), state, pid,
                  json_object_get_int_member (c, "port"),
                  json_object_get_string_member (c, "url"));
        }
    }

  run_clear (&run);
  return all_healthy ? ODD_ODDCTL_EXIT_OK : ODD_ODDCTL_EXIT_FAILURE;
}

/* `logs -f`: print what is appended, as tail -f does, until interrupted. */
typedef struct
{
  GMainLoop *loop;
  FILE      *file;
} Follow;

static gboolean
follow_poll (gpointer user_data)
{
  Follow *follow = user_data;
  char buffer[8192];
  size_t n;

  clearerr (follow->file);
  while ((n = fread (buffer, 1, sizeof buffer, follow->file)) > 0)
    fwrite (buffer, 1, n, stdout);
  fflush (stdout);

  return G_SOURCE_CONTINUE;
}

static gboolean
follow_quit (gpointer user_data)
{
  Follow *follow = user_data;

  g_main_loop_quit (follow->loop);
  return G_SOURCE_CONTINUE;
}

static int
local_logs (const char *name,
            gboolean    follow_mode)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddLocalStack) stack = odd_local_stack_new_from_env (&error);
  g_autofree char *log_file = NULL;
  g_auto(GStrv) names = NULL;
  OddComponent *component = NULL;
  Follow follow = { 0 };

  if (stack == NULL)
    {
      fprintf (stderr, "oddctl: %s\n", error->message);
      return ODD_ODDCTL_EXIT_FAILURE;
    }
  names = odd_local_stack_dup_names (stack);

  if (g_strv_contains ((const char * const *) names, name))
    component = odd_local_stack_get_component (stack, name);
  if (component == NULL)
    {
      g_autofree char *list = g_strjoinv (", ", names);

      fprintf (stderr, "oddctl: unknown component “%s”; one of: %s\n", name, list);
      return ODD_ODDCTL_EXIT_USAGE;
    }

  log_file = odd_component_dup_log_file (component);
  follow.file = fopen (log_file, "r");
  if (follow.file == NULL)
    {
      fprintf (stderr, "oddctl: no log yet for %s (%s): %s\n", name, log_file,
               g_strerror (errno));
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  follow_poll (&follow);
  if (follow_mode)
    {
      guint poll_id, sigint_id, sigterm_id;

      follow.loop = g_main_loop_new (NULL, FALSE);
      poll_id = g_timeout_add (250, follow_poll, &follow);
      sigint_id = g_unix_signal_add (SIGINT, follow_quit, &follow);
      sigterm_id = g_unix_signal_add (SIGTERM, follow_quit, &follow);
      g_main_loop_run (follow.loop);
      g_clear_handle_id (&poll_id, g_source_remove);
      g_clear_handle_id (&sigint_id, g_source_remove);
      g_clear_handle_id (&sigterm_id, g_source_remove);
      g_clear_pointer (&follow.loop, g_main_loop_unref);
    }

  fclose (follow.file);
  return ODD_ODDCTL_EXIT_OK;
}

static int
local_queue_limit (gint64 max_length,
                   gint64 max_bytes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddLocalStack) stack = odd_local_stack_new_from_env (&error);
  OddComponent *rabbitmq;

  if (stack == NULL)
    {
      fprintf (stderr, "oddctl: %s\n", error->message);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  rabbitmq = odd_local_stack_get_component (stack, "rabbitmq");
  if (odd_component_get_pid (rabbitmq) == 0)
    {
      fprintf (stderr, "oddctl: RabbitMQ is not running; start it with `oddctl local up`\n");
      return ODD_ODDCTL_EXIT_FAILURE;
    }
  if (!odd_component_set_queue_limit (rabbitmq, max_length, max_bytes, NULL, &error))
    {
      fprintf (stderr, "oddctl: %s\n", error->message);
      return ODD_ODDCTL_EXIT_FAILURE;
    }

  if (max_length == 0 && max_bytes == 0)
    printf ("jobs.created: no length limit\n");
  else
    printf ("jobs.created: at most %" G_GINT64_FORMAT " jobs and %" G_GINT64_FORMAT " bytes "
            "(0 = unbounded), then the broker refuses new jobs\n", max_length, max_bytes);
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
odd_oddctl_local_run (int    argc,
                      char **argv)
{
  const char *command;

  if (argc < 1)
    return usage_error ("%s", "local needs a command: up, down, status, logs or queue-limit");

  command = argv[0];

  if (g_str_equal (command, "--help") || g_str_equal (command, "-h"))
    {
      odd_oddctl_print_usage (stdout);
      return ODD_ODDCTL_EXIT_OK;
    }

  if (g_str_equal (command, "down"))
    {
      if (argc > 1)
        return usage_error ("unexpected argument “%s”", argv[1]);
      return local_up_or_down (FALSE, NULL);
    }

  if (g_str_equal (command, "up"))
    {
      guint replicas[ODD_PORT_LAST] = { 0 };
      gboolean has_replicas = FALSE;

      for (int i = 1; i < argc; i++)
        {
          g_autoptr(GError) error = NULL;
          const char *spec = NULL;

          if (g_str_equal (argv[i], "--replicas"))
            {
              if (i + 1 >= argc)
                return usage_error ("%s", "--replicas needs SERVICE=COUNT pairs, e.g. "
                                    "--replicas processor=3,metrics-engine=2");
              spec = argv[++i];
            }
          else if (g_str_has_prefix (argv[i], "--replicas="))
            spec = argv[i] + strlen ("--replicas=");
          else
            return usage_error ("unexpected argument “%s”", argv[i]);

          if (!odd_stack_parse_replicas (spec, replicas, &error))
            return usage_error ("%s", error->message);
          has_replicas = TRUE;
        }
      return local_up_or_down (TRUE, has_replicas ? replicas : NULL);
    }

  if (g_str_equal (command, "status"))
    {
      gboolean json = FALSE;

      for (int i = 1; i < argc; i++)
        {
          if (g_str_equal (argv[i], "--json"))
            json = TRUE;
          else
            return usage_error ("unexpected argument “%s”", argv[i]);
        }
      return local_status (json);
    }

  if (g_str_equal (command, "logs"))
    {
      const char *name = NULL;
      gboolean follow = FALSE;

      for (int i = 1; i < argc; i++)
        {
          if (g_str_equal (argv[i], "-f") || g_str_equal (argv[i], "--follow"))
            follow = TRUE;
          else if (argv[i][0] == '-')
            return usage_error ("unknown option “%s”", argv[i]);
          else if (name == NULL)
            name = argv[i];
          else
            return usage_error ("unexpected argument “%s”", argv[i]);
        }
      if (name == NULL)
        return usage_error ("%s", "logs needs a component name");
      return local_logs (name, follow);
    }

  if (g_str_equal (command, "queue-limit"))
    {
      guint64 max_length, max_bytes = ODD_DEFAULT_JOBS_CREATED_MAX_BYTES;

      if (argc < 2 || argc > 3)
        return usage_error ("%s", "queue-limit needs JOBS and optionally BYTES");
      if (!g_ascii_string_to_unsigned (argv[1], 10, 0, G_MAXINT64, &max_length, NULL))
        return usage_error ("queue-limit: “%s” is not a number of jobs (0 = no limit)", argv[1]);
      if (argc == 3 && !g_ascii_string_to_unsigned (argv[2], 10, 0, G_MAXINT64, &max_bytes, NULL))
        return usage_error ("queue-limit: “%s” is not a number of bytes (0 = no limit)", argv[2]);
      return local_queue_limit ((gint64) max_length, (gint64) max_bytes);
    }

  return usage_error ("unknown local command “%s”", command);
}
