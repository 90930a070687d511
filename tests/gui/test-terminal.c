#define G_LOG_DOMAIN "test-terminal"

#include <signal.h>
#include <string.h>

#include "odd-gui-test.h"
#include "odd-terminal-page.h"

/* The terminal tab and page: a child's output read back from the VteTerminal, its exit and
 * restart, typed commands that wait for Enter, the palette, and children ended with the tab. */


static gboolean
shows (OddTerminalTab *tab,
       const char     *needle)
{
  g_autofree char *text = odd_gui_test_terminal_text (odd_terminal_tab_get_terminal (tab));

  return text != NULL && strstr (text, needle) != NULL;
}

static guint
count (OddTerminalTab *tab,
       const char     *needle)
{
  g_autofree char *text = odd_gui_test_terminal_text (odd_terminal_tab_get_terminal (tab));
  guint n = 0;

  for (const char *p = text; p != NULL && (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}


static void
test_child_output_and_restart (void)
{
  const char * const argv[] = { "/bin/sh", "-c", "printf 'hello from the child\\n'; exit 3", NULL };
  OddTerminalTab *tab = ODD_TERMINAL_TAB (odd_terminal_tab_new (ODD_TERMINAL_COMMAND, NULL, argv));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (tab), 700, 400);

  ODD_GUI_ASSERT_WITHIN (odd_terminal_tab_get_exited (tab), 20);
  ODD_GUI_ASSERT_WITHIN (shows (tab, "hello from the child"), 10);
  g_assert_cmpint (odd_terminal_tab_get_pid (tab), ==, 0);
  g_assert_cmpstr (odd_terminal_tab_get_title (tab), ==, "sh");

  /* Restart runs it again in a reset terminal. */
  gtk_widget_activate_action (GTK_WIDGET (tab), "tab.restart", NULL);
  g_assert_false (odd_terminal_tab_get_exited (tab));
  ODD_GUI_ASSERT_WITHIN (odd_terminal_tab_get_exited (tab), 20);
  ODD_GUI_ASSERT_WITHIN (shows (tab, "hello from the child"), 10);
  g_assert_cmpuint (count (tab, "hello from the child"), ==, 1);

  gtk_window_destroy (window);
}

static void
test_failed_start (void)
{
  const char * const argv[] = { "/nonexistent/odd-no-such-program", NULL };
  OddTerminalTab *tab = ODD_TERMINAL_TAB (odd_terminal_tab_new (ODD_TERMINAL_COMMAND, NULL, argv));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (tab), 700, 400);

  ODD_GUI_ASSERT_WITHIN (odd_terminal_tab_get_exited (tab), 20);
  g_assert_cmpint (odd_terminal_tab_get_pid (tab), ==, 0);
  gtk_window_destroy (window);
}

static void
test_typed_waits_for_enter (void)
{
  OddTerminalTab *tab = ODD_TERMINAL_TAB (odd_terminal_tab_new (ODD_TERMINAL_SHELL, NULL, NULL));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (tab), 700, 400);

  /* Typed before the shell runs: it waits, then appears at the prompt. */
  odd_terminal_tab_type (tab, "echo typed-$((40+2))");
  ODD_GUI_ASSERT_WITHIN (shows (tab, "echo typed-$((40+2))"), 20);
  odd_gui_test_spin (500);
  g_assert_false (shows (tab, "typed-42"));

  /* The user presses Enter. */
  vte_terminal_feed_child (odd_terminal_tab_get_terminal (tab), "\n", 1);
  ODD_GUI_ASSERT_WITHIN (shows (tab, "typed-42"), 20);
  gtk_window_destroy (window);
}

static void
test_closing_ends_the_child (void)
{
  const char * const argv[] = { "/bin/sh", "-c", "echo ready; exec sleep 600", NULL };
  OddTerminalTab *tab = ODD_TERMINAL_TAB (odd_terminal_tab_new (ODD_TERMINAL_COMMAND, NULL, argv));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (tab), 700, 400);
  GPid pid;

  ODD_GUI_ASSERT_WITHIN (shows (tab, "ready"), 20);
  pid = odd_terminal_tab_get_pid (tab);
  g_assert_cmpint (pid, >, 0);
  g_assert_false (odd_gui_test_process_ended (pid));

  gtk_window_destroy (window);
  ODD_GUI_ASSERT_WITHIN (odd_gui_test_process_ended (pid), 20);
}

static void
test_palette_follows_style (void)
{
  const char * const argv[] = { "/bin/sh", "-c", "exec sleep 600", NULL };
  OddTerminalTab *tab = ODD_TERMINAL_TAB (odd_terminal_tab_new (ODD_TERMINAL_COMMAND, NULL, argv));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (tab), 700, 400);
  GdkRGBA bg;

  vte_terminal_get_color_background_for_draw (odd_terminal_tab_get_terminal (tab), &bg);
  g_assert_cmpfloat (bg.red, >, 0.9);
  odd_gui_test_set_dark (TRUE);
  odd_gui_test_spin (100);
  vte_terminal_get_color_background_for_draw (odd_terminal_tab_get_terminal (tab), &bg);
  g_assert_cmpfloat (bg.red, <, 0.2);
  odd_gui_test_set_dark (FALSE);
  gtk_window_destroy (window);
}

static void
test_page_tabs (void)
{
  OddTerminalPage *page = ODD_TERMINAL_PAGE (odd_terminal_page_new (NULL));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (page), 800, 500);
  OddTerminalTab *dashboard, *shell;

  g_assert_cmpuint (odd_terminal_page_get_n_tabs (page), ==, 0);
  dashboard = odd_terminal_page_show_dashboard (page);
  g_assert_cmpuint (odd_terminal_page_get_n_tabs (page), ==, 1);
  shell = odd_terminal_page_run_command (page, "echo from-setup");
  g_assert_cmpuint (odd_terminal_page_get_n_tabs (page), ==, 2);
  g_assert_true (odd_terminal_page_get_current (page) == shell);
  ODD_GUI_ASSERT_WITHIN (shows (shell, "echo from-setup"), 20);

  /* The dashboard tab is found again, not opened twice. */
  g_assert_true (odd_terminal_page_show_dashboard (page) == dashboard);
  g_assert_cmpuint (odd_terminal_page_get_n_tabs (page), ==, 2);

  /* Zoom reaches every terminal. */
  g_object_set (page, "font-scale", 1.5, NULL);
  g_assert_cmpfloat (vte_terminal_get_font_scale (odd_terminal_tab_get_terminal (shell)), ==, 1.5);
  g_assert_cmpfloat (vte_terminal_get_font_scale (odd_terminal_tab_get_terminal (dashboard)), ==, 1.5);

  gtk_window_destroy (window);
}

static void
test_find_dashboard (void)
{
  g_autofree char *path = odd_terminal_find_dashboard ();

  /* The build tree's odd-dashboard (the test depends on it). */
  g_assert_nonnull (path);
  g_assert_true (g_str_has_suffix (path, "/odd-dashboard"));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE));
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("SHELL", "/bin/sh", TRUE);
  odd_gui_test_init (&argc, &argv);
  g_test_add_func ("/terminal/child-output-and-restart", test_child_output_and_restart);
  g_test_add_func ("/terminal/failed-start", test_failed_start);
  g_test_add_func ("/terminal/typed-waits-for-enter", test_typed_waits_for_enter);
  g_test_add_func ("/terminal/closing-ends-the-child", test_closing_ends_the_child);
  g_test_add_func ("/terminal/palette-follows-style", test_palette_follows_style);
  g_test_add_func ("/terminal/page-tabs", test_page_tabs);
  g_test_add_func ("/terminal/find-dashboard", test_find_dashboard);
  return g_test_run ();
}
