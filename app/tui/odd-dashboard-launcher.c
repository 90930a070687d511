#define G_LOG_DOMAIN "odd-dashboard-launcher"

#define _XOPEN_SOURCE_EXTENDED 1

#include <curses.h>

#include "odd-dashboard.h"
#include "odd-stack-paths.h"
#include "odd-cluster.h"

void
odd_dash_launcher_render (OddDash *dash,
                          OddGrid *grid)
{
  int top = MAX (0, grid->rows / 2 - 8);
  g_autofree char *status = g_strdup_printf ("%s No stack answers at %s",
                                             grid->unicode ? "●" : "*",
                                             dash->read_model_url);

  odd_dash_render_logo (grid, top);
  odd_dash_render_centered (grid, top + 5, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                            "Distributed Task Observatory");
  odd_dash_render_centered (grid, top + 7, ODD_COLOR_YELLOW, ODD_ATTR_BOLD, status);
  if (dash->poll_error != NULL)
    odd_dash_render_centered (grid, top + 8, ODD_COLOR_DEFAULT, ODD_ATTR_DIM, dash->poll_error);

  {
    /* The choices share one left edge, the block centred. */
    static const char *choices[] = {
      "L  start the local stack (PostgreSQL, Redis, RabbitMQ, 4 services)",
      "K  start a kind cluster (needs Docker, kind and kubectl)",
      "D  doctor: check this machine and fix what is missing",
      "R  retry the connection",
      "Q  quit",
    };
    int x = MAX (0, (grid->cols - odd_text_width (choices[0])) / 2);

    odd_grid_print (grid, top + 10, x, -1, ODD_COLOR_CYAN, ODD_ATTR_BOLD, choices[0]);
    odd_grid_print (grid, top + 11, x, -1, ODD_COLOR_CYAN, ODD_ATTR_BOLD, choices[1]);
    odd_grid_print (grid, top + 12, x, -1, ODD_COLOR_CYAN, ODD_ATTR_BOLD, choices[2]);
    odd_grid_print (grid, top + 13, x, -1, ODD_COLOR_CYAN, ODD_ATTR_BOLD, choices[3]);
    odd_grid_print (grid, top + 14, x, -1, ODD_COLOR_RED, ODD_ATTR_BOLD, choices[4]);
  }

  odd_dash_render_help_bar (dash, grid, "L Local stack  K Kind cluster  D Doctor  R Retry  Q Quit");
}

void
odd_dash_launcher_key (OddDash *dash,
                       int      key,
                       gboolean is_char)
{
  int k = is_char && key < 128 ? g_ascii_tolower (key) : key;

  if (!is_char)
    return;
  switch (k)
    {
    case 'q':
    case 3:
      odd_dash_quit (dash, 0);
      break;
    case 'l':
      odd_dash_start_local_stack (dash);
      break;
    case 'k':
      odd_dash_start_cluster (dash);
      break;
    case 'd':
      dash->back = ODD_SCREEN_LAUNCHER;
      odd_dash_doctor_start (dash);
      break;
    case 'r':
      dash->first_poll_done = FALSE;
      odd_dash_set_screen (dash, ODD_SCREEN_LOADING);
      odd_dash_poll (dash);
      break;
    default:
      break;
    }
}

/* ---- progress of an operation ---- */

static void
op_begin (OddDash    *dash,
          OddOp       op,
          OddScreen   screen,
          const char *first_line)
{
  dash->op = op;
  dash->op_done = FALSE;
  dash->op_fraction = 0;
  dash->op_started = g_get_monotonic_time ();
  g_clear_pointer (&dash->op_error, g_free);
  g_clear_pointer (&dash->op_step, g_free);
  g_ptr_array_set_size (dash->log, 0);
  g_ptr_array_set_size (dash->op_remedy, 0);
  g_clear_object (&dash->op_cancellable);
  dash->op_cancellable = g_cancellable_new ();
  odd_dash_log_append (dash->log, first_line);
  odd_dash_set_screen (dash, screen);
}

static void
on_progress (const char        *step,
             OddProgressStatus  status,
             const char        *message,
             double             fraction,
             gpointer           user_data)
{
  OddDash *dash = user_data;
  g_autofree char *line = NULL;
  const char *mark;

  switch (status)
    {
    case ODD_PROGRESS_OK: mark = "ok  "; break;
    case ODD_PROGRESS_SKIPPED: mark = "--  "; break;
    case ODD_PROGRESS_FAILED: mark = "FAIL"; break;
    case ODD_PROGRESS_RUNNING:
    default: mark = "..  "; break;
    }

  g_free (dash->op_step);
  dash->op_step = g_strdup_printf ("%s: %s", step, message);
  dash->op_fraction = CLAMP (fraction, 0, 1);
  line = g_strdup_printf ("%s %-17s %s", mark, step, message);  /* metrics-engine-16 */
  odd_dash_log_append (dash->log, line);
  odd_dash_queue_redraw (dash);
}

static void
op_finish (OddDash *dash,
           GError  *error)
{
  dash->op_done = TRUE;
  if (error != NULL)
    {
      dash->op_error = g_strdup (error->message);
      odd_dash_log_append (dash->log, error->message);
    }
  else
    dash->op_fraction = 1;

  /* Quitting waited for the cancellation to clean up; now it can end. */
  if (dash->quitting)
    {
      g_main_loop_quit (dash->loop);
      return;
    }
  odd_dash_queue_redraw (dash);
}

static void
on_stack_up (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;

  if (odd_local_stack_up_finish (ODD_LOCAL_STACK (source), result, &error))
    {
      OddStackPaths *paths = odd_local_stack_get_paths (ODD_LOCAL_STACK (source));
      g_autoptr(OddEndpoints) started = odd_endpoints_new_for_stack (paths);
      g_autoptr(OddEndpoints) endpoints = odd_endpoints_follow (odd_client_get_endpoints (dash->client),
                                                                started);

      /* Explicit READ_MODEL_URL / GATEWAY_URL still win. */
      odd_dash_use_endpoints (dash, endpoints);
      odd_dash_log_append (dash->log, "The local stack is up.");
    }
  op_finish (dash, error);
}

void
odd_dash_start_local_stack (OddDash *dash)
{
  g_autoptr(GError) error = NULL;

  if (dash->stack == NULL)
    dash->stack = odd_local_stack_new_from_env (&error);
  if (dash->stack == NULL)
    {
      odd_dash_set_flash (dash, TRUE, "Cannot set up the local stack: %s", error->message);
      return;
    }

  op_begin (dash, ODD_OP_STACK_UP, ODD_SCREEN_PROGRESS,
            "Starting the local stack (as `oddctl local up`)…");
  odd_local_stack_up_async (dash->stack, dash->op_cancellable, on_progress, dash, on_stack_up,
                            dash);
}

static void
on_cluster_up (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  OddCluster *cluster = ODD_CLUSTER (source);

  if (odd_cluster_up_finish (cluster, result, &error))
    {
      g_autoptr(OddEndpoints) started =
        odd_endpoints_new_for_cluster (odd_cluster_get_read_model_port (cluster),
                                       odd_cluster_get_gateway_port (cluster));
      g_autoptr(OddEndpoints) endpoints = odd_endpoints_follow (odd_client_get_endpoints (dash->client),
                                                                started);

      odd_dash_use_endpoints (dash, endpoints);
      odd_dash_log_append (dash->log, "The kind cluster is up.");
    }
  else
    {
      JsonObject *failure = odd_cluster_get_failure (cluster);

      /* The cluster library tells the hint and the exact remediation; show them. */
      if (failure != NULL)
        {
          const char *hint = json_object_get_string_member_with_default (failure, "hint", NULL);
          JsonNode *node = json_object_get_member (failure, "remediation");
          JsonArray *remedy = node != NULL && JSON_NODE_HOLDS_ARRAY (node)
                              ? json_node_get_array (node) : NULL;

          if (hint != NULL)
            g_ptr_array_add (dash->op_remedy, g_strdup_printf ("Hint: %s", hint));
          for (guint i = 0; remedy != NULL && i < json_array_get_length (remedy); i++)
            {
              JsonNode *line = json_array_get_element (remedy, i);

              if (JSON_NODE_HOLDS_VALUE (line) && json_node_get_value_type (line) == G_TYPE_STRING)
                g_ptr_array_add (dash->op_remedy,
                                 g_strdup_printf ("  %s", json_node_get_string (line)));
            }
        }
    }
  op_finish (dash, error);
}

void
odd_dash_start_cluster (OddDash *dash)
{
  g_autoptr(GError) error = NULL;

  if (dash->cluster == NULL)
    dash->cluster = G_OBJECT (odd_cluster_new_from_env (&error));
  if (dash->cluster == NULL)
    {
      odd_dash_set_flash (dash, TRUE, "Cannot set up the kind cluster: %s", error->message);
      return;
    }
  op_begin (dash, ODD_OP_CLUSTER_UP, ODD_SCREEN_PROGRESS,
            "Creating the kind cluster (as `oddctl cluster up`)…");
  odd_cluster_up_async (ODD_CLUSTER (dash->cluster), dash->op_cancellable, on_progress, dash,
                        on_cluster_up, dash);
}

static void
on_stack_down (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;

  if (odd_local_stack_down_finish (ODD_LOCAL_STACK (source), result, &error))
    odd_dash_log_append (dash->log, "The local stack is stopped; its data is kept.");
  op_finish (dash, error);
}

void
odd_dash_shutdown (OddDash *dash)
{
  g_autoptr(GError) error = NULL;

  /* Only what this machine runs for us can be stopped from here. */
  if (dash->endpoints != ODD_ENDPOINTS_SOURCE_STACK)
    {
      odd_dash_set_flash (dash, TRUE,
                          dash->endpoints == ODD_ENDPOINTS_SOURCE_ENV
                          ? "^Q stops the local stack; this dashboard shows READ_MODEL_URL"
                          : "^Q stops the local stack; none is running here (use `oddctl cluster down` for kind)");
      return;
    }
  if (dash->stack == NULL)
    dash->stack = odd_local_stack_new_from_env (&error);
  if (dash->stack == NULL)
    {
      odd_dash_set_flash (dash, TRUE, "Cannot find the local stack: %s", error->message);
      return;
    }

  odd_dash_stop_polling (dash);
  op_begin (dash, ODD_OP_STACK_DOWN, ODD_SCREEN_SHUTDOWN, "Stopping the local stack…");
  odd_local_stack_down_async (dash->stack, dash->op_cancellable, on_progress, dash,
                              on_stack_down, dash);
}

void
odd_dash_progress_render (OddDash *dash,
                          OddGrid *grid)
{
  gboolean shutdown = dash->screen == ODD_SCREEN_SHUTDOWN;
  gboolean failed = dash->op_done && dash->op_error != NULL;
  OddColor color = failed ? ODD_COLOR_RED : ODD_COLOR_GREEN;
  const char *title = shutdown ? "Stopping the local stack"
                      : dash->op == ODD_OP_CLUSTER_UP ? "Kind cluster setup" : "Local stack setup";
  gint64 elapsed = (g_get_monotonic_time () - dash->op_started) / G_USEC_PER_SEC;
  int width = grid->cols - 4;
  int bar = width - 12;
  int filled = (int) (bar * dash->op_fraction);
  int y = 1, x = 2;
  int log_rows;
  g_autofree char *status = NULL;
  g_autofree char *percent = g_strdup_printf (" %3d%%", (int) (dash->op_fraction * 100 + 0.5));

  odd_grid_box (grid, 0, 0, grid->rows - 2, grid->cols, color, title);

  if (!dash->op_done)
    status = g_strdup_printf ("%s %s  %02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT,
                              odd_dash_spinner (dash, grid),
                              dash->op_step != NULL ? dash->op_step : "starting",
                              elapsed / 60, elapsed % 60);
  else if (failed)
    status = g_strdup_printf ("%s Failed: %s", grid->unicode ? "✗" : "x", dash->op_error);
  else
    status = g_strdup_printf ("%s Done in %02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT,
                              grid->unicode ? "✓" : "OK", elapsed / 60, elapsed % 60);

  odd_grid_print (grid, y, x, width, failed ? ODD_COLOR_RED : ODD_COLOR_YELLOW, ODD_ATTR_BOLD,
                  status);
  odd_grid_fill (grid, y + 1, x, 1, bar, grid->unicode ? 0x2591 : '.', ODD_COLOR_DEFAULT,
                 ODD_ATTR_DIM);
  odd_grid_fill (grid, y + 1, x, 1, filled, grid->unicode ? 0x2588 : '#', color, ODD_ATTR_NONE);
  odd_grid_print (grid, y + 1, x + bar, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, percent);

  y += 3;
  for (guint i = 0; i < dash->op_remedy->len && y < grid->rows - 8; i++)
    y += odd_dash_render_wrapped (grid, y, x, width, grid->rows - 8 - y, ODD_COLOR_YELLOW,
                                  ODD_ATTR_NONE, dash->op_remedy->pdata[i]);
  if (dash->op_remedy->len > 0)
    y++;

  /* The newest lines of the log that fit. */
  log_rows = grid->rows - 3 - y;
  for (int i = 0; i < log_rows && (guint) i < dash->log->len; i++)
    {
      guint index = dash->log->len - MIN ((guint) log_rows, dash->log->len) + (guint) i;
      const char *line = dash->log->pdata[index];

      odd_grid_print (grid, y + i, x, width,
                      g_str_has_prefix (line, "FAIL") ? ODD_COLOR_RED : ODD_COLOR_DEFAULT,
                      ODD_ATTR_NONE, line);
    }

  if (!dash->op_done)
    odd_dash_render_help_bar (dash, grid, "Q Cancel and quit (stops what was started)");
  else if (shutdown)
    odd_dash_render_help_bar (dash, grid, "Any key: exit");
  else if (failed)
    odd_dash_render_help_bar (dash, grid, "Any key: back to the launcher  D Doctor");
  else
    odd_dash_render_help_bar (dash, grid, "Any key: open the dashboard");
}

void
odd_dash_progress_key (OddDash *dash,
                       int      key,
                       gboolean is_char)
{
  int k = is_char && key < 128 ? g_ascii_tolower (key) : key;

  if (!dash->op_done)
    {
      if (is_char && (k == 'q' || k == 3))
        odd_dash_quit (dash, 0);
      return;
    }

  if (dash->screen == ODD_SCREEN_SHUTDOWN)
    {
      odd_dash_quit (dash, dash->op_error != NULL ? 1 : 0);
      return;
    }

  dash->op = ODD_OP_NONE;
  if (dash->op_error != NULL)
    {
      if (is_char && k == 'd')
        {
          dash->back = ODD_SCREEN_LAUNCHER;
          odd_dash_doctor_start (dash);
        }
      else
        odd_dash_set_screen (dash, ODD_SCREEN_LAUNCHER);
      return;
    }

  dash->first_poll_done = FALSE;
  odd_dash_set_screen (dash, ODD_SCREEN_LOADING);
  odd_dash_start_polling (dash);
}
