#define G_LOG_DOMAIN "test-tui-render"

#include <string.h>
#include <glib/gstdio.h>

#include "odd-dashboard.h"
#include "odd-dashboard-grid.h"
#include "odd-dashboard-sparkline.h"

static char *
row_text (OddGrid *grid,
          int      row)
{
  g_autofree char *all = odd_grid_to_text (grid);
  g_auto(GStrv) lines = g_strsplit (all, "\n", -1);

  g_assert_cmpint (row, <, (int) g_strv_length (lines));
  return g_strdup (lines[row]);
}

static void
test_grid (void)
{
  g_autoptr(OddGrid) grid = odd_grid_new (3, 10, TRUE);
  g_autofree char *text = NULL;

  /* Clipped at the width and at the edge, control characters shown as '?'. */
  g_assert_cmpint (odd_grid_print (grid, 0, 0, 4, ODD_COLOR_RED, ODD_ATTR_BOLD, "abcdef"), ==, 4);
  g_assert_cmpint (odd_grid_print (grid, 1, 7, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "xyz123"), ==, 3);
  g_assert_cmpint (odd_grid_print (grid, 2, 0, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "a\tb\033c"), ==, 5);
  g_assert_cmpint (odd_grid_cell (grid, 0, 1)->color, ==, ODD_COLOR_RED);
  g_assert_null (odd_grid_cell (grid, 3, 0));
  text = odd_grid_to_text (grid);
  g_assert_cmpstr (text, ==, "abcd\n       xyz\na?b?c\n");

  /* A wide character takes two cells and never half of one. */
  odd_grid_clear (grid);
  g_assert_cmpint (odd_grid_print (grid, 0, 0, 3, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "日本"), ==, 2);
  g_assert_cmpint (odd_text_width ("日本x"), ==, 5);
  g_clear_pointer (&text, g_free);
  text = odd_grid_to_text (grid);
  g_assert_cmpstr (text, ==, "日\n\n\n");

  /* ASCII grids (TERM=linux, C locale) never get other characters. */
  {
    g_autoptr(OddGrid) ascii = odd_grid_new (3, 6, FALSE);
    g_autofree char *boxed = NULL;

    odd_grid_box (ascii, 0, 0, 3, 6, ODD_COLOR_DEFAULT, NULL);
    odd_grid_print (ascii, 1, 1, 4, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "é✓");
    boxed = odd_grid_to_text (ascii);
    g_assert_cmpstr (boxed, ==, "+----+\n|??  |\n+----+\n");
  }

  /* Invalid UTF-8 from a server does not reach the screen. */
  odd_grid_clear (grid);
  odd_grid_print (grid, 0, 0, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "\xff\xfe");
  g_clear_pointer (&text, g_free);
  text = row_text (grid, 0);
  g_assert_cmpstr (text, ==, "(invalid t");
}

static void
test_wrap (void)
{
  g_autoptr(OddGrid) grid = odd_grid_new (4, 12, TRUE);
  g_autofree char *text = NULL;

  g_assert_cmpint (odd_dash_render_wrapped (grid, 0, 0, 10, 4, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                                            "Install kind: curl -Lo https://example/kind"), ==, 4);
  text = odd_grid_to_text (grid);
  g_assert_cmpstr (text, ==, "Install\nkind: curl\n-Lo\nhttps://ex\n");
  /* At most max_rows. */
  odd_grid_clear (grid);
  g_assert_cmpint (odd_dash_render_wrapped (grid, 0, 0, 10, 1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                                            "one two three four"), ==, 1);
}

static void
test_sparkline (void)
{
  const double values[] = { 0, 1, 2, 4, 8 };
  const double zeros[] = { 0, 0, 0 };
  double max = -1;
  g_autofree char *line = odd_sparkline (values, 5, 5, TRUE, &max);
  g_autofree char *padded = odd_sparkline (values, 5, 8, FALSE, NULL);
  g_autofree char *cut = odd_sparkline (values, 5, 2, FALSE, NULL);
  g_autofree char *flat = odd_sparkline (zeros, 3, 3, TRUE, &max);
  g_autofree char *empty = odd_sparkline (NULL, 0, 4, TRUE, NULL);

  g_assert_cmpstr (line, ==, "▁▂▃▅█");
  g_assert_cmpstr (padded, ==, "   _.:=#");
  g_assert_cmpstr (cut, ==, "=#");
  g_assert_cmpstr (flat, ==, "▁▁▁");
  g_assert_cmpfloat (max, ==, 0);
  g_assert_cmpstr (empty, ==, "    ");
}

static void
test_validation (void)
{
  struct { const char *type; const char *error; } cases[] = {
    { "report", NULL },
    { "  video-encode_2  ", NULL },
    { "Bericht_über", NULL },
    { "", "Job type cannot be empty" },
    { "   ", "Job type cannot be empty" },
    { "has space", "Job type must be alphanumeric (underscores/hyphens allowed)" },
    { "semi;colon", "Job type must be alphanumeric (underscores/hyphens allowed)" },
    { "a23456789012345678901234567890123456789012345678901", "Job type too long (max 50 chars)" },
    { "a2345678901234567890123456789012345678901234567890", NULL },
  };
  gint64 duration;
  double rate;
  const char *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpstr (odd_dash_validate_job_type (cases[i].type), ==, cases[i].error);

  g_assert_true (odd_dash_parse_simulation ("", "", &duration, &rate, &error));
  g_assert_cmpint (duration, ==, -1);
  g_assert_cmpfloat (rate, ==, -1);
  g_assert_true (odd_dash_parse_simulation (" 250 ", "0.25", &duration, &rate, &error));
  g_assert_cmpint (duration, ==, 250);
  g_assert_cmpfloat (rate, ==, 0.25);
  g_assert_false (odd_dash_parse_simulation ("600001", "", &duration, &rate, &error));
  g_assert_nonnull (strstr (error, "0 to 600000"));
  g_assert_false (odd_dash_parse_simulation ("1.5", "", &duration, &rate, &error));
  g_assert_false (odd_dash_parse_simulation ("", "1.01", &duration, &rate, &error));
  g_assert_nonnull (strstr (error, "0 to 1"));
  g_assert_false (odd_dash_parse_simulation ("", "abc", &duration, &rate, &error));
}

static JsonObject *
object_of (const char *json)
{
  g_autoptr(JsonNode) node = json_from_string (json, NULL);

  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

/* The dashboard's state as OddClient would have made it from these answers. */
static OddDash *
dash_with_data (void)
{
  OddDash *dash = odd_dash_new ();
  const char *statuses[] = { "COMPLETED", "FAILED", "PENDING" };
  g_autoptr(GString) series = g_string_new ("{\"points\":[");
  g_autoptr(JsonObject) stats = object_of ("{\"totalJobs\":1234,\"completedJobs\":1200,"
                                           "\"failedJobs\":30,\"inFlightJobs\":4,"
                                           "\"throughputPerSec\":12.5,\"lastEventTime\":"
                                           "\"2026-01-02T03:04:05Z\",\"latencyMs\":{\"p50\":120,"
                                           "\"p95\":480,\"p99\":500}}");
  g_autoptr(JsonObject) series_object = NULL;

  odd_dash_set_endpoints (dash, "http://127.0.0.1:1/", "http://127.0.0.1:2", ODD_ENDPOINTS_SOURCE_ENV);
  dash->screen = ODD_SCREEN_DASHBOARD;
  dash->reachable = TRUE;
  dash->stats = odd_stats_new_from_json (stats);
  for (int i = 0; i < 40; i++)
    g_string_append_printf (series, "%s{\"t\":\"2026-01-02T03:04:%02d.000Z\",\"submitted\":%d,"
                            "\"completed\":%d,\"failed\":%d,\"queueDepth\":0}",
                            i > 0 ? "," : "", i, i, i % 7, i % 5 == 0);
  g_string_append (series, "]}");
  series_object = object_of (series->str);
  dash->series = odd_series_new_from_json (series_object);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"name\":\"jobs.q%d\",\"messages\":%d,"
                                               "\"consumers\":1}", i, i * 10);
      g_autoptr(JsonObject) queue = object_of (json);

      g_ptr_array_add (dash->queues, odd_queue_new_from_json (queue));
    }
  for (int i = 0; i < 30; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"id\":\"%08x-0000-4000-8000-000000000000\","
                                               "\"type\":\"report\",\"status\":\"%s\","
                                               "\"createdAt\":\"2026-01-02T03:04:05Z\","
                                               "\"attempts\":1}", 0xabc00 + i, statuses[i % 3]);
      g_autoptr(JsonObject) job = object_of (json);

      g_ptr_array_add (dash->jobs, odd_job_new_from_summary (job));
    }
  dash->selected = 0;
  return dash;
}

static void
test_dashboard (void)
{
  OddDash *dash = dash_with_data ();
  g_autoptr(OddGrid) grid = odd_grid_new (24, 80, TRUE);
  g_autofree char *text = NULL;
  g_autofree char *header = NULL;
  g_autofree char *last = NULL;
  g_auto(GStrv) lines = NULL;

  odd_dash_render (dash, grid);
  text = odd_grid_to_text (grid);
  g_test_message ("%s", text);

  /* Endpoints lose their trailing slash. */
  header = row_text (grid, 0);
  g_assert_nonnull (strstr (header, "http://127.0.0.1:1 "));
  g_assert_nonnull (strstr (text, "Total 1234  Completed 1200  Failed 30  In flight 4  Throughput 12.50/s"));
  g_assert_nonnull (strstr (text, "Throughput  "));
  g_assert_nonnull (strstr (text, "Failures    "));
  g_assert_nonnull (strstr (text, "jobs.q2"));
  g_assert_nonnull (strstr (text, "20 msg 1 con"));
  g_assert_nonnull (strstr (text, "No active alerts"));
  g_assert_nonnull (strstr (text, ">000abc00  report"));
  g_assert_nonnull (strstr (text, "FAILED"));
  last = row_text (grid, 23);
  g_assert_true (g_str_has_prefix (last, " Q Quit R Refresh N New job"));

  /* Exactly 24 lines of at most 80 columns. */
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 25);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpint (odd_text_width (lines[i]), <=, 80);

  /* Status colours: failed red, completed green. */
  for (int y = 0; y < grid->rows; y++)
    {
      g_autofree char *row = row_text (grid, y);
      const char *failed = strstr (row, "FAILED");

      if (failed != NULL)
        {
          g_autofree char *before = g_strndup (row, failed - row);
          int x = odd_text_width (before);

          g_assert_cmpint (odd_grid_cell (grid, y, x)->color, ==, ODD_COLOR_RED);
        }
    }

  /* The selection scrolls into view. */
  dash->selected = 25;
  odd_dash_render (dash, grid);
  g_clear_pointer (&text, g_free);
  text = odd_grid_to_text (grid);
  g_assert_nonnull (strstr (text, ">000abc19"));
  g_assert_null (strstr (text, "000abc00"));

  /* An alert and a read model that stopped answering. */
  {
    g_autoptr(JsonObject) alert = object_of ("{\"name\":\"DeadLettersGrowing\",\"severity\":"
                                             "\"critical\",\"service\":\"processor\",\"summary\":"
                                             "\"2 dead letters\",\"since\":\"2026-01-02T03:04:05Z\","
                                             "\"runbook\":\"x\"}");

    g_ptr_array_add (dash->alerts, odd_alert_new_from_json (alert));
    dash->reachable = FALSE;
    dash->poll_error = g_strdup ("read model: Could not connect");
  }
  odd_dash_render (dash, grid);
  g_clear_pointer (&text, g_free);
  text = odd_grid_to_text (grid);
  g_assert_nonnull (strstr (text, "Alerts (1)"));
  g_assert_nonnull (strstr (text, "DeadLettersGrowing [processor]"));
  g_assert_nonnull (strstr (text, "stale"));
  g_assert_nonnull (strstr (text, "read model: Could not connect"));

  odd_dash_free (dash);
}

static void
test_sizes (void)
{
  OddDash *dash = dash_with_data ();
  int sizes[][2] = { { 24, 80 }, { 16, 60 }, { 50, 200 }, { 10, 40 } };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(OddGrid) grid = odd_grid_new (sizes[i][0], sizes[i][1], TRUE);
      g_autofree char *text = NULL;
      g_auto(GStrv) lines = NULL;

      odd_dash_render (dash, grid);
      text = odd_grid_to_text (grid);
      lines = g_strsplit (text, "\n", -1);
      g_assert_cmpuint (g_strv_length (lines), ==, (guint) sizes[i][0] + 1);
      for (guint l = 0; lines[l] != NULL; l++)
        g_assert_cmpint (odd_text_width (lines[l]), <=, sizes[i][1]);
      if (sizes[i][0] < ODD_DASH_MIN_ROWS)
        g_assert_nonnull (strstr (text, "Terminal too small: 40x10"));
      else
        g_assert_nonnull (strstr (text, "Total 1234"));
    }
  odd_dash_free (dash);
}

static void
test_screens (void)
{
  OddDash *dash = dash_with_data ();
  g_autoptr(OddGrid) grid = odd_grid_new (24, 80, TRUE);
  g_autofree char *text = NULL;

  dash->screen = ODD_SCREEN_LAUNCHER;
  odd_dash_render (dash, grid);
  text = odd_grid_to_text (grid);
  g_assert_nonnull (strstr (text, "No stack answers at http://127.0.0.1:1"));
  g_assert_nonnull (strstr (text, "L  start the local stack"));
  g_assert_nonnull (strstr (text, "K  start a kind cluster"));

  /* The new-job modal: keys type into the focused field, Tab moves, validation speaks. */
  odd_dash_new_job_open (dash);
  for (const char *p = "bad type"; *p != '\0'; p++)
    odd_dash_handle_key (dash, *p, TRUE);
  odd_dash_handle_key (dash, '\r', TRUE);
  odd_dash_render (dash, grid);
  g_clear_pointer (&text, g_free);
  text = odd_grid_to_text (grid);
  g_assert_nonnull (strstr (text, "New job"));
  g_assert_nonnull (strstr (text, "bad type"));
  g_assert_nonnull (strstr (text, "Job type must be alphanumeric (underscores/hyphens allowed)"));
  g_assert_cmpint (dash->new_job.state, ==, ODD_FORM_EDITING);
  odd_dash_handle_key (dash, 21, TRUE);  /* ^U */
  g_assert_cmpstr (dash->new_job.fields[ODD_FIELD_TYPE]->str, ==, "");
  odd_dash_handle_key (dash, '\t', TRUE);
  odd_dash_handle_key (dash, 'x', TRUE);  /* not a digit: ignored */
  odd_dash_handle_key (dash, '7', TRUE);
  g_assert_cmpstr (dash->new_job.fields[ODD_FIELD_DURATION]->str, ==, "7");
  odd_dash_handle_key (dash, 27, TRUE);
  g_assert_cmpint (dash->screen, ==, ODD_SCREEN_DASHBOARD);

  /* Upper-case keys work like lower-case ones. */
  odd_dash_handle_key (dash, 'N', TRUE);
  g_assert_cmpint (dash->screen, ==, ODD_SCREEN_NEW_JOB);
  odd_dash_handle_key (dash, 27, TRUE);

  odd_dash_free (dash);
}

static void
test_ui_registry (void)
{
  OddDash *dash;
  g_autofree char *dir = g_build_filename (g_getenv ("CONTRACTS_PATH"), NULL);
  g_autofree char *path = g_build_filename (dir, "ui-registry.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *restricted = NULL;

  /* The local stack's ports (the web terminal: base + 90), set before any thread. */
  g_setenv ("ODD_PORT_BASE", "18000", TRUE);
  dash = odd_dash_new ();
  odd_dash_set_endpoints (dash, "http://127.0.0.1:18080", "http://127.0.0.1:18300",
                          ODD_ENDPOINTS_SOURCE_STACK);
  entries = odd_dash_uis_load (dash, path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, >=, 2);
  /* The reference's ports 3000 and 8080 mean the gateway and read model in use. */
  for (guint i = 0; i < entries->len; i++)
    {
      OddUiEntry *entry = entries->pdata[i];

      if (g_str_equal (entry->id, "gateway-docs"))
        g_assert_cmpstr (entry->url, ==, "http://127.0.0.1:18300/docs");
      if (g_str_equal (entry->id, "read-model-docs"))
        g_assert_cmpstr (entry->url, ==, "http://127.0.0.1:18080/docs");
      if (g_str_equal (entry->id, "grafana"))
        g_assert_cmpstr (entry->url, ==, "http://localhost:3002/");
      if (g_str_equal (entry->id, "web-terminal"))
        g_assert_cmpstr (entry->url, ==, "http://127.0.0.1:18090/");
    }
  g_unsetenv ("ODD_PORT_BASE");

  /* A registry that breaks its schema is refused with the reason. */
  bad = g_build_filename (g_get_tmp_dir (), "test-tui-bad-registry.json", NULL);
  g_assert_true (g_file_set_contents (bad, "{\"registryVersion\":\"1.0.0\",\"baseUrl\":\"ftp://x\","
                                           "\"entries\":[]}", -1, NULL));
  g_assert_null (odd_dash_uis_load (dash, bad, &error));
  g_assert_nonnull (strstr (error->message, "Registry malformed"));
  g_clear_error (&error);
  g_unlink (bad);
  g_assert_null (odd_dash_uis_load (dash, "/nonexistent/ui-registry.json", &error));
  g_assert_nonnull (strstr (error->message, "Registry not found"));
  g_clear_error (&error);

  /* The reference's rules: no browser over SSH or without a display. */
  g_setenv ("SSH_CLIENT", "10.0.0.1 5000 22", TRUE);
  restricted = odd_dash_uis_restriction ("http://x/");
  g_assert_cmpstr (restricted, ==, "SSH session detected - browser launch not available. URL: http://x/");
  g_unsetenv ("SSH_CLIENT");
  g_unsetenv ("SSH_TTY");
  g_unsetenv ("DISPLAY");
  g_unsetenv ("WAYLAND_DISPLAY");
  g_clear_pointer (&restricted, g_free);
  restricted = odd_dash_uis_restriction ("http://x/");
  g_assert_cmpstr (restricted, ==, "No DISPLAY set (headless environment). URL: http://x/");
  g_setenv ("DISPLAY", ":0", TRUE);
  g_clear_pointer (&restricted, g_free);
  restricted = odd_dash_uis_restriction ("http://x/");
  g_assert_null (restricted);

  odd_dash_free (dash);
}

static void
test_endpoints (void)
{
  OddDash *dash = odd_dash_new ();
  g_autofree char *state = g_dir_make_tmp ("test-tui-state-XXXXXX", NULL);

  g_setenv ("ODD_STATE_DIR", state, TRUE);
  g_unsetenv ("READ_MODEL_URL");
  g_unsetenv ("GATEWAY_URL");
  odd_dash_resolve_endpoints (dash);
  g_assert_cmpstr (dash->read_model_url, ==, "http://localhost:8080");
  g_assert_cmpstr (dash->gateway_url, ==, "http://localhost:3000");
  g_assert_cmpint (dash->endpoints, ==, ODD_ENDPOINTS_SOURCE_DEFAULT);

  g_setenv ("READ_MODEL_URL", "http://rm.example:1/", TRUE);
  g_setenv ("GATEWAY_URL", "http://gw.example:2", TRUE);
  odd_dash_resolve_endpoints (dash);
  g_assert_cmpstr (dash->read_model_url, ==, "http://rm.example:1");
  g_assert_cmpstr (dash->gateway_url, ==, "http://gw.example:2");
  g_assert_cmpint (dash->endpoints, ==, ODD_ENDPOINTS_SOURCE_ENV);

  g_unsetenv ("READ_MODEL_URL");
  g_unsetenv ("GATEWAY_URL");
  g_rmdir (state);
  odd_dash_free (dash);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tui/grid", test_grid);
  g_test_add_func ("/tui/sparkline", test_sparkline);
  g_test_add_func ("/tui/wrap", test_wrap);
  g_test_add_func ("/tui/validation", test_validation);
  g_test_add_func ("/tui/dashboard", test_dashboard);
  g_test_add_func ("/tui/sizes", test_sizes);
  g_test_add_func ("/tui/screens", test_screens);
  g_test_add_func ("/tui/ui-registry", test_ui_registry);
  g_test_add_func ("/tui/endpoints", test_endpoints);

  return g_test_run ();
}
