#define G_LOG_DOMAIN "test-window"

#include <glib/gstdio.h>

#include "odd-gui-test.h"
#include "odd-window.h"

/* The window and the application: the first page by the first-run setting, actions and their
 * accelerators, zoom through GSettings into every terminal, the stack kind bound to its
 * setting, and closing the window ending what its tabs run. */

static OddApplication *app;


static OddWindow *
new_window (void)
{
  OddWindow *window = odd_window_new (app);

  odd_gui_test_present (GTK_WINDOW (window), 900, 680);
  return window;
}

static void
test_first_page (void)
{
  GSettings *settings = odd_application_get_settings (app);
  OddWindow *window;

  g_settings_set_boolean (settings, "first-run-done", FALSE);
  window = new_window ();
  g_assert_cmpstr (odd_window_get_page_name (window), ==, "setup");
  gtk_window_destroy (GTK_WINDOW (window));

  g_settings_set_boolean (settings, "first-run-done", TRUE);
  window = new_window ();
  g_assert_cmpstr (odd_window_get_page_name (window), ==, "stack");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_accels (void)
{
  static const struct
  {
    const char *action;
    const char *accel;
  } expected[] = {
    { "app.quit", "<Control>q" },
    { "app.start-stack", "<Shift><Control>s" },
    { "app.stop-stack", "<Shift><Control>x" },
    { "win.show-page::setup", "<Alt>1" },
    { "win.new-terminal-tab", "<Shift><Control>t" },
    { "win.copy", "<Shift><Control>c" },
    { "win.paste", "<Shift><Control>v" },
    { "win.zoom-in", "<Control>plus" },
    { "win.zoom-out", "<Control>minus" },
    { "win.zoom-normal", "<Control>0" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), expected[i].action);

      g_assert_nonnull (accels);
      g_assert_cmpstr (accels[0], ==, expected[i].accel);
    }
}

static void
test_zoom_and_tabs (void)
{
  GSettings *settings = odd_application_get_settings (app);
  OddWindow *window = new_window ();
  OddTerminalPage *terminal = odd_window_get_terminal_page (window);
  OddTerminalTab *tab;
  GPid pid;

  g_settings_set_double (settings, "terminal-font-scale", 1.0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-terminal-tab", NULL));
  g_assert_cmpstr (odd_window_get_page_name (window), ==, "terminal");
  g_assert_cmpuint (odd_terminal_page_get_n_tabs (terminal), ==, 1);
  tab = odd_terminal_page_get_current (terminal);
  ODD_GUI_ASSERT_WITHIN (odd_terminal_tab_get_pid (tab) > 0, 20);
  pid = odd_terminal_tab_get_pid (tab);

  gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-in", NULL);
  g_assert_cmpfloat_with_epsilon (g_settings_get_double (settings, "terminal-font-scale"), 1.1, 1e-9);
  g_assert_cmpfloat_with_epsilon (vte_terminal_get_font_scale (odd_terminal_tab_get_terminal (tab)), 1.1, 1e-9);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-out", NULL);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-out", NULL);
  g_assert_cmpfloat (vte_terminal_get_font_scale (odd_terminal_tab_get_terminal (tab)), <, 1.0);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-normal", NULL);
  g_assert_cmpfloat (vte_terminal_get_font_scale (odd_terminal_tab_get_terminal (tab)), ==, 1.0);
  /* Zoom stays within its range however often it is pressed. */
  for (guint i = 0; i < 30; i++)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-in", NULL);
  g_assert_cmpfloat (g_settings_get_double (settings, "terminal-font-scale"), ==, 3.0);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-normal", NULL);

  /* Closing the window ends the shell (SIGHUP, as a terminal emulator does). */
  gtk_window_close (GTK_WINDOW (window));
  ODD_GUI_ASSERT_WITHIN (odd_gui_test_process_ended (pid), 20);
}

static void
test_kind_setting (void)
{
  GSettings *settings = odd_application_get_settings (app);
  OddStackMonitor *monitor = odd_application_get_monitor (app);

  g_settings_set_string (settings, "stack-kind", "kind");
  g_assert_cmpint (odd_stack_monitor_get_kind (monitor), ==, ODD_STACK_KIND_KIND);
  odd_stack_monitor_set_kind (monitor, ODD_STACK_KIND_LOCAL);
  g_assert_cmpstr (g_settings_get_string (settings, "stack-kind"), ==, "local");
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *state = g_build_filename (g_get_tmp_dir (), "odd-gui-window-state", NULL);
  g_autoptr(GError) error = NULL;
  int rc;

  g_setenv ("ODD_STATE_DIR", state, TRUE);
  g_setenv ("ODD_PORT_BASE", "46200", TRUE);
  g_setenv ("SHELL", "/bin/sh", TRUE);
  odd_gui_test_init (&argc, &argv);
  app = odd_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/window/first-page", test_first_page);
  g_test_add_func ("/window/accels", test_accels);
  g_test_add_func ("/window/zoom-and-tabs", test_zoom_and_tabs);
  g_test_add_func ("/window/kind-setting", test_kind_setting);
  rc = g_test_run ();

  g_clear_object (&app);
  g_rmdir (state);
  return rc;
}
