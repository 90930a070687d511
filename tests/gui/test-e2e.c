#define G_LOG_DOMAIN "test-e2e"

#include <string.h>
#include <glib/gstdio.h>

#include "odd-component-row.h"
#include "odd-doctor-row.h"
#include "odd-gui-test.h"
#include "odd-local-stack.h"
#include "odd-test-stack.h"
#include "odd-window.h"

/* The app as a new user meets it: no stack, first run on Setup with a tool the doctor rejects
 * (a fake `kind` too old, first on PATH), its fix typed into a terminal tab, then "Start the
 * Local Stack" (the real stack: PostgreSQL, Redis, RabbitMQ and the four services, in the
 * fixture's port slot and state directory), every component healthy, the dashboard in the
 * terminal tab showing the stack, and Stop. Screenshots of each page are kept in the build dir
 * (docs/screenshots come from them). */

static OddTestStack *stack;

static void
click (GtkWidget *button)
{
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_is_sensitive (button));
  g_assert_true (gtk_widget_get_visible (button));
  g_signal_emit_by_name (button, "clicked");
}


static gboolean
tab_shows (OddTerminalTab *tab,
           const char     *needle)
{
  g_autofree char *text = odd_gui_test_terminal_text (odd_terminal_tab_get_terminal (tab));

  return text != NULL && strstr (text, needle) != NULL;
}

static gboolean
dashboard_ready (gpointer tab)
{
  return tab_shows (tab, "Recent jobs");
}

static gboolean
no_alerts (gpointer tab)
{
  return tab_shows (tab, "No active alerts");
}

static void
save_screenshot (OddWindow  *window,
                 const char *name)
{
  g_autoptr(GdkTexture) texture = odd_gui_test_render (GTK_WINDOW (window));
  g_autofree char *dir = odd_gui_test_screenshot_dir ();
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

static void
test_first_run_to_running_stack (void)
{
  g_autoptr(OddApplication) app = odd_application_new ();
  g_autoptr(GError) error = NULL;
  const char *service_env[] = { "G_DEBUG=", NULL };
  OddStackMonitor *monitor;
  OddWindow *window;
  OddSetupPage *setup;
  OddDoctorRow *kind_row = NULL;
  OddTerminalTab *tab;
  GListModel *components;
  GPtrArray *rows;

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  monitor = odd_application_get_monitor (app);
  /* The services run with the test environment minus its fatal warnings (as the fixture's). */
  odd_local_stack_set_service_env (odd_stack_monitor_get_local_stack (monitor), service_env);
  g_assert_false (g_settings_get_boolean (odd_application_get_settings (app), "first-run-done"));

  /* First run: the window opens on Setup and the doctor runs. */
  g_application_activate (G_APPLICATION (app));
  window = ODD_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  odd_gui_test_present (GTK_WINDOW (window), 1000, 760);
  g_assert_cmpstr (odd_window_get_page_name (window), ==, "setup");
  setup = odd_window_get_setup_page (window);
  ODD_GUI_ASSERT_WITHIN (odd_setup_page_get_report (setup) != NULL && !odd_setup_page_get_checking (setup), 120);
  g_assert_cmpint (odd_stack_monitor_get_state (monitor), ==, ODD_STACK_STATE_STOPPED);

  /* The fake kind fails its check, with the install command to run in a terminal. */
  rows = odd_setup_page_get_rows (setup);
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (odd_doctor_row_get_check_id (g_ptr_array_index (rows, i)), "kind") == 0)
      kind_row = g_ptr_array_index (rows, i);
  g_assert_nonnull (kind_row);
  g_assert_cmpint (odd_doctor_row_get_status (kind_row), ==, ODD_DOCTOR_FAIL);
  g_assert_true (odd_doctor_row_get_needs_terminal (kind_row));
  if (!odd_setup_page_get_local_ready (setup))
    {
      g_autofree char *text = odd_doctor_report_to_text (odd_setup_page_get_report (setup), "odd-observatory");

      g_error ("this machine cannot run the local stack:\n%s", text);
    }
  odd_gui_test_spin (300);
  save_screenshot (window, "e2e-setup");

  /* Run in Terminal: a shell tab with the command typed, waiting for Enter. */
  click (odd_gui_test_find_button (GTK_WIDGET (kind_row), "row.run-in-terminal"));
  g_assert_cmpstr (odd_window_get_page_name (window), ==, "terminal");
  tab = odd_terminal_page_get_current (odd_window_get_terminal_page (window));
  ODD_GUI_ASSERT_WITHIN (tab_shows (tab, "sudo install -m 0755 kind"), 30);

  /* Back to Setup: one click starts the local stack. */
  odd_window_show_page (window, "setup");
  click (odd_gui_test_find_button (GTK_WIDGET (setup), "win.start-local-stack"));
  g_assert_cmpstr (odd_window_get_page_name (window), ==, "stack");
  g_assert_true (odd_stack_monitor_get_busy (monitor));
  odd_gui_test_spin (2000);
  save_screenshot (window, "e2e-stack-starting");
  ODD_GUI_ASSERT_WITHIN (!odd_stack_monitor_get_busy (monitor), 400);
  if (odd_stack_monitor_get_error (monitor) != NULL)
    g_error ("the stack did not start: %s\n%s", odd_stack_monitor_get_error (monitor),
             odd_stack_monitor_get_remediation (monitor) != NULL ? odd_stack_monitor_get_remediation (monitor) : "");
  ODD_GUI_ASSERT_WITHIN (odd_stack_monitor_get_state (monitor) == ODD_STACK_STATE_RUNNING, 60);

  /* Every component healthy, each with its pid and port. */
  components = odd_stack_monitor_get_components (monitor);
  g_assert_cmpuint (g_list_model_get_n_items (components), ==,
                    g_strv_length ((GStrv) odd_local_stack_component_names ()));
  for (guint i = 0; i < g_list_model_get_n_items (components); i++)
    {
      g_autoptr(OddStackEntry) entry = g_list_model_get_item (components, i);

      g_assert_cmpint (odd_stack_entry_get_health (entry), ==, ODD_STACK_ENTRY_HEALTHY);
      g_assert_true (g_str_has_prefix (odd_stack_entry_get_detail (entry), "pid "));
      g_assert_cmpuint (odd_stack_entry_get_port (entry), >, 0);
    }
  g_assert_true (g_settings_get_boolean (odd_application_get_settings (app), "first-run-done"));
  odd_gui_test_spin (500);
  save_screenshot (window, "e2e-stack");

  /* The dashboard in the terminal tab, talking to this stack. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-dashboard", NULL));
  g_assert_cmpstr (odd_window_get_page_name (window), ==, "terminal");
  tab = odd_terminal_page_get_current (odd_window_get_terminal_page (window));
  g_assert_cmpstr (odd_terminal_tab_get_title (tab), ==, "Dashboard");
  if (!odd_gui_test_wait (dashboard_ready, tab, 60))
    {
      g_autofree char *text = odd_gui_test_terminal_text (odd_terminal_tab_get_terminal (tab));

      save_screenshot (window, "e2e-terminal-failed");
      g_error ("the dashboard does not show the stack:\n%s", text);
    }
  ODD_GUI_ASSERT_WITHIN (tab_shows (tab, "Completed"), 30);
  g_assert_false (odd_terminal_tab_get_exited (tab));
  /* For the picture: the read model's first alert evaluation may still see the services
   * starting; a few seconds later it has none. */
  odd_gui_test_wait (no_alerts, tab, 30);
  save_screenshot (window, "e2e-terminal");

  /* Stop: everything ends, the dashboard tab keeps running (and says the stack is gone). */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "stop-stack"));
  g_action_group_activate_action (G_ACTION_GROUP (app), "stop-stack", NULL);
  g_assert_true (odd_stack_monitor_get_busy (monitor));
  ODD_GUI_ASSERT_WITHIN (!odd_stack_monitor_get_busy (monitor), 120);
  g_assert_null (odd_stack_monitor_get_error (monitor));
  ODD_GUI_ASSERT_WITHIN (odd_stack_monitor_get_state (monitor) == ODD_STACK_STATE_STOPPED, 60);

  gtk_window_destroy (GTK_WINDOW (window));
  odd_gui_test_spin (200);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bin = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *path = NULL;
  g_autofree char *base = NULL;
  int rc;

  /* The stack's slot and directory, before any thread: the app reads them from the
   * environment as oddctl does. */
  stack = odd_test_stack_reserve (&error);
  g_assert_no_error (error);
  base = g_strdup_printf ("%d", odd_test_stack_get_port_base (stack));
  g_setenv ("ODD_STATE_DIR", odd_test_stack_get_state_dir (stack), TRUE);
  g_setenv ("ODD_PORT_BASE", base, TRUE);

  /* A kind older than the doctor accepts, found first. */
  bin = g_dir_make_tmp ("odd-gui-e2e-XXXXXX", &error);
  g_assert_no_error (error);
  kind = g_build_filename (bin, "kind", NULL);
  g_file_set_contents (kind, "#!/bin/sh\necho 'kind v0.11.1 go1.16.4 linux/amd64'\n", -1, &error);
  g_assert_no_error (error);
  g_chmod (kind, 0755);
  path = g_strconcat (bin, ":", g_getenv ("PATH"), NULL);
  g_setenv ("PATH", path, TRUE);
  g_setenv ("SHELL", "/bin/sh", TRUE);

  odd_gui_test_init (&argc, &argv);
  g_test_add_func ("/e2e/first-run-to-running-stack", test_first_run_to_running_stack);
  rc = g_test_run ();

  odd_test_stack_stop (stack);
  g_unlink (kind);
  g_rmdir (bin);
  return rc;
}
