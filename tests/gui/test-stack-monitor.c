#define G_LOG_DOMAIN "test-stack-monitor"

#include "odd-gui-test.h"
#include "odd-stack-monitor.h"
#include "odd-stack-page.h"

/* OddStackMonitor's polling: a status probes every component of the stack, so it is asked
 * every :refresh-interval only while a view watches the monitor (the Stack page while it is
 * shown), every :unwatched-interval otherwise, and at once when a view starts watching. The
 * statuses are counted by the monitor's "refreshed" signal; the local stack of an empty
 * state directory answers them (everything stopped). */

static char *root;
static guint n_refreshed;

static void
on_refreshed (OddStackMonitor *monitor,
              gpointer         data)
{
  n_refreshed++;
}

static OddStackMonitor *
counted_monitor (guint refresh_interval,
                 guint unwatched_interval)
{
  OddStackMonitor *monitor = odd_stack_monitor_new ();

  g_object_set (monitor, "refresh-interval", refresh_interval, "unwatched-interval", unwatched_interval, NULL);
  g_signal_connect (monitor, "refreshed", G_CALLBACK (on_refreshed), NULL);
  n_refreshed = 0;
  return monitor;
}

/* Lets a status that was asked before now land. */
static void
settle (OddStackMonitor *monitor)
{
  guint before = n_refreshed;

  odd_stack_monitor_refresh (monitor);
  ODD_GUI_ASSERT_WITHIN (n_refreshed > before, 30);
}

static void
test_quiet_unwatched (void)
{
  g_autoptr(OddStackMonitor) monitor = counted_monitor (1, 0);
  guint before;

  /* Nobody watches: a refresh interval of a second asks nothing. */
  g_assert_false (odd_stack_monitor_get_watched (monitor));
  odd_gui_test_spin (3500);
  g_assert_cmpuint (n_refreshed, ==, 0);

  /* Watched: at once, then every second. */
  odd_stack_monitor_watch (monitor);
  g_assert_true (odd_stack_monitor_get_watched (monitor));
  ODD_GUI_ASSERT_WITHIN (n_refreshed >= 1, 30);
  g_assert_cmpint (odd_stack_monitor_get_state (monitor), ==, ODD_STACK_STATE_STOPPED);
  ODD_GUI_ASSERT_WITHIN (n_refreshed >= 3, 60);

  /* Watched twice, unwatched once: still watched. */
  odd_stack_monitor_watch (monitor);
  odd_stack_monitor_unwatch (monitor);
  g_assert_true (odd_stack_monitor_get_watched (monitor));
  before = n_refreshed;
  ODD_GUI_ASSERT_WITHIN (n_refreshed >= before + 2, 60);

  /* Unwatched again: quiet (after the status that may be on its way). */
  odd_stack_monitor_unwatch (monitor);
  g_assert_false (odd_stack_monitor_get_watched (monitor));
  settle (monitor);
  before = n_refreshed;
  odd_gui_test_spin (3500);
  g_assert_cmpuint (n_refreshed, ==, before);
}

static void
test_slow_unwatched (void)
{
  g_autoptr(OddStackMonitor) monitor = counted_monitor (3600, 1);

  /* The slow poll for the state alone goes on without watchers. */
  ODD_GUI_ASSERT_WITHIN (n_refreshed >= 2, 60);
  g_assert_false (odd_stack_monitor_get_watched (monitor));
  g_assert_cmpint (odd_stack_monitor_get_state (monitor), ==, ODD_STACK_STATE_STOPPED);
}

static gboolean
refreshed_once (gpointer data)
{
  return n_refreshed > GPOINTER_TO_UINT (data);
}

static void
test_page_watches (void)
{
  /* Neither interval would ask within the test: only the page's watch does. */
  g_autoptr(OddStackMonitor) monitor = counted_monitor (3600, 0);
  GtkWidget *stack = gtk_stack_new ();
  GtkWidget *page = odd_stack_page_new (monitor);
  GtkWindow *window;
  guint before;

  gtk_stack_add_named (GTK_STACK (stack), gtk_label_new ("another page"), "other");
  gtk_stack_add_named (GTK_STACK (stack), page, "stack");
  gtk_stack_set_visible_child_name (GTK_STACK (stack), "other");
  window = odd_gui_test_window (stack, 800, 700);

  g_assert_false (odd_stack_monitor_get_watched (monitor));
  odd_gui_test_spin (500);
  g_assert_cmpuint (n_refreshed, ==, 0);

  /* Shown: watched, and the components come at once. */
  gtk_stack_set_visible_child_name (GTK_STACK (stack), "stack");
  g_assert_true (odd_stack_monitor_get_watched (monitor));
  g_assert_true (odd_gui_test_wait (refreshed_once, GUINT_TO_POINTER (0), 30));
  g_assert_cmpint (odd_stack_monitor_get_state (monitor), ==, ODD_STACK_STATE_STOPPED);
  g_assert_cmpuint (g_list_model_get_n_items (odd_stack_monitor_get_components (monitor)), >, 0);

  /* Hidden: not watched; shown again right away: no second status within the second. */
  gtk_stack_set_visible_child_name (GTK_STACK (stack), "other");
  g_assert_false (odd_stack_monitor_get_watched (monitor));
  before = n_refreshed;
  gtk_stack_set_visible_child_name (GTK_STACK (stack), "stack");
  g_assert_true (odd_stack_monitor_get_watched (monitor));
  gtk_stack_set_visible_child_name (GTK_STACK (stack), "other");
  g_assert_false (odd_stack_monitor_get_watched (monitor));
  odd_gui_test_spin (200);
  g_assert_cmpuint (n_refreshed, <=, before + 1);

  gtk_window_destroy (window);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  int rc;

  root = g_dir_make_tmp ("odd-gui-monitor-XXXXXX", &error);
  g_assert_no_error (error);
  state = g_build_filename (root, "local", NULL);
  /* An empty stack of its own (nothing runs, nothing is probed on the network). */
  g_setenv ("ODD_STATE_DIR", state, TRUE);
  g_setenv ("ODD_PORT_BASE", "23400", TRUE);

  odd_gui_test_init (&argc, &argv);
  g_test_add_func ("/stack-monitor/quiet-unwatched", test_quiet_unwatched);
  g_test_add_func ("/stack-monitor/slow-unwatched", test_slow_unwatched);
  g_test_add_func ("/stack-monitor/page-watches", test_page_watches);
  rc = g_test_run ();

  {
    g_autofree char *quoted = g_shell_quote (root);
    g_autofree char *command = g_strdup_printf ("rm -rf %s", quoted);

    g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL);
  }
  return rc;
}
