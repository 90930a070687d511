#define G_LOG_DOMAIN "test-screenshots"

#include <glib/gstdio.h>

#include "odd-doctor-private.h"
#include "odd-gui-test.h"
#include "odd-window.h"

/* Each page of the window at 900 × 680, light and dark, compared with the reference PNGs of
 * tests/gui/reference (a fixed doctor report, the local stack at rest in a fixed directory,
 * a terminal with fixed output). The rendered images stay in the build dir. */

static OddApplication *app;
static OddWindow *window;

static OddDoctorReport *
fixed_report (void)
{
  OddDoctorReport *report = odd_doctor_report_new (ODD_DISTRO_DEBIAN, "Debian GNU/Linux 12 (bookworm)",
                                                   "linux", "x86_64");

  odd_doctor_report_add (report, "platform", "Platform", ODD_DOCTOR_OK, NULL, NULL,
                         "linux-x86_64 (Debian GNU/Linux 12 (bookworm), apt)");
  odd_doctor_report_add (report, "postgres", "PostgreSQL server", ODD_DOCTOR_OK, NULL, NULL,
                         "/usr/lib/postgresql/15/bin/pg_ctl");
  odd_doctor_report_add (report, "redis", "Redis server", ODD_DOCTOR_FAIL, NULL,
                         "sudo apt-get install -y redis-server", "redis-server not found");
  odd_doctor_report_add (report, "rabbitmq", "RabbitMQ server", ODD_DOCTOR_OK, NULL, NULL,
                         "/usr/lib/rabbitmq/bin/rabbitmq-server");
  odd_doctor_report_add (report, "memory", "Free memory", ODD_DOCTOR_WARN, NULL, NULL,
                         "1.5 GiB available; the stack wants 2 GiB");
  odd_doctor_report_add (report, "kind", "kind", ODD_DOCTOR_FAIL, NULL,
                         "curl -fsSLo kind https://kind.sigs.k8s.io/dl/v0.23.0/kind-linux-amd64 && sudo install -m 0755 kind /usr/local/bin/kind && rm kind",
                         "kind not found");
  return report;
}

static void
check_pages (const char *style)
{
  static const char * const pages[] = { "setup", "stack", "terminal", NULL };

  for (guint i = 0; pages[i] != NULL; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%s", pages[i], style);

      odd_window_show_page (window, pages[i]);
      odd_gui_test_spin (600);
      odd_gui_test_check_screenshot (GTK_WINDOW (window), name);
    }
}

static void
test_light (void)
{
  odd_gui_test_set_dark (FALSE);
  check_pages ("light");
}

static void
test_dark (void)
{
  odd_gui_test_set_dark (TRUE);
  check_pages ("dark");
  odd_gui_test_set_dark (FALSE);
}

static gboolean
stack_known (gpointer data)
{
  return odd_stack_monitor_get_state (data) == ODD_STACK_STATE_STOPPED;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *state = g_build_filename (g_get_tmp_dir (), "odd-gui-screenshot-state", NULL);
  g_autoptr(OddDoctorReport) report = fixed_report ();
  g_autoptr(GError) error = NULL;
  const char * const argv_tab[] = {
    "/bin/sh", "-c",
    "printf '\\033[1mDistributed Task Observatory\\033[0m\\n\\n"
    "  \\033[32mhealthy\\033[0m  \\033[33mwaiting\\033[0m  \\033[31mfailed\\033[0m  \\033[34mqueued\\033[0m\\n'; "
    "exec sleep 600", NULL,
  };
  OddTerminalTab *tab;
  int rc;

  /* A stack that never ran, in a fixed place (the Stack page shows its directory and ports). */
  g_setenv ("ODD_STATE_DIR", state, TRUE);
  g_setenv ("ODD_PORT_BASE", "46100", TRUE);

  odd_gui_test_init (&argc, &argv);
  app = odd_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_settings_set_boolean (odd_application_get_settings (app), "first-run-done", TRUE);

  window = odd_window_new (app);
  odd_setup_page_set_report (odd_window_get_setup_page (window), report);
  tab = odd_terminal_page_add_tab (odd_window_get_terminal_page (window), ODD_TERMINAL_COMMAND, argv_tab);
  vte_terminal_set_cursor_blink_mode (odd_terminal_tab_get_terminal (tab), VTE_CURSOR_BLINK_OFF);
  odd_gui_test_present (GTK_WINDOW (window), 900, 680);
  g_assert_true (odd_gui_test_wait (stack_known, odd_application_get_monitor (app), 30));

  g_test_add_func ("/screenshots/light", test_light);
  g_test_add_func ("/screenshots/dark", test_dark);
  rc = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  g_application_quit (G_APPLICATION (app));
  g_clear_object (&app);
  g_rmdir (state);
  return rc;
}
