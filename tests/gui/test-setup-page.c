#define G_LOG_DOMAIN "test-setup-page"

#include <string.h>
#include <glib/gstdio.h>

#include "odd-doctor-private.h"
#include "odd-doctor-row.h"
#include "odd-gui-test.h"
#include "odd-setup-page.h"

/* The Setup page and its doctor rows: a report with every status and fix kind, Copy, Run in
 * Terminal, the first-run button, and a real (slow) doctor run that must not block the window. */

static char *tools_dir;

static OddDoctorReport *
report_with_every_status (gboolean local_ok)
{
  OddDoctorReport *report = odd_doctor_report_new (ODD_DISTRO_DEBIAN, "Debian GNU/Linux 12 (bookworm)",
                                                   "linux", "x86_64");

  odd_doctor_report_add (report, "platform", "Platform", ODD_DOCTOR_OK, NULL, NULL,
                         "linux-x86_64 (Debian GNU/Linux 12 (bookworm), apt)");
  odd_doctor_report_add (report, "postgres", "PostgreSQL server",
                         local_ok ? ODD_DOCTOR_OK : ODD_DOCTOR_FAIL, NULL,
                         local_ok ? NULL : "sudo apt-get install -y postgresql",
                         local_ok ? "/usr/lib/postgresql/15/bin/pg_ctl" : "pg_ctl not found");
  odd_doctor_report_add (report, "memory", "Free memory", ODD_DOCTOR_WARN, NULL, NULL,
                         "1.2 GiB available (2 GiB recommended)");
  odd_doctor_report_add (report, "docker-cli", "Docker CLI", ODD_DOCTOR_OK, "24.0.7", NULL,
                         "Docker version 24.0.7");
  odd_doctor_report_add (report, "docker-socket", "Docker socket", ODD_DOCTOR_FAIL, NULL,
                         "sudo usermod -aG docker $USER && newgrp docker",
                         "permission denied on /var/run/docker.sock");
  odd_doctor_report_add (report, "kind", "kind", ODD_DOCTOR_WARN, "0.19.0",
                         "brew upgrade kind", "kind v0.19.0 is older than 0.20.0");
  odd_doctor_report_add (report, "kind-cluster", "kind cluster", ODD_DOCTOR_FAIL, NULL, NULL,
                         "no cluster \"task-observatory\" <yet> & not created");
  return report;
}

static void
test_rows_every_status (void)
{
  g_autoptr(OddDoctorReport) report = report_with_every_status (FALSE);
  OddSetupPage *page = ODD_SETUP_PAGE (odd_setup_page_new (NULL));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (page), 800, 900);
  GPtrArray *rows;
  static const struct
  {
    const char      *id;
    OddDoctorStatus  status;
    gboolean         copy;
    gboolean         run;
  } expected[] = {
    { "platform", ODD_DOCTOR_OK, FALSE, FALSE },
    { "postgres", ODD_DOCTOR_FAIL, TRUE, TRUE },
    { "memory", ODD_DOCTOR_WARN, FALSE, FALSE },
    { "docker-cli", ODD_DOCTOR_OK, FALSE, FALSE },
    { "docker-socket", ODD_DOCTOR_FAIL, TRUE, TRUE },
    { "kind", ODD_DOCTOR_WARN, TRUE, FALSE },
    { "kind-cluster", ODD_DOCTOR_FAIL, FALSE, FALSE },
  };

  odd_setup_page_set_report (page, report);
  rows = odd_setup_page_get_rows (page);
  g_assert_cmpuint (rows->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < rows->len; i++)
    {
      OddDoctorRow *row = g_ptr_array_index (rows, i);
      GtkWidget *copy = odd_gui_test_find_button (GTK_WIDGET (row), "row.copy-fix");
      GtkWidget *run = odd_gui_test_find_button (GTK_WIDGET (row), "row.run-in-terminal");

      g_assert_cmpstr (odd_doctor_row_get_check_id (row), ==, expected[i].id);
      g_assert_cmpint (odd_doctor_row_get_status (row), ==, expected[i].status);
      g_assert_nonnull (copy);
      g_assert_nonnull (run);
      g_assert_cmpint (gtk_widget_get_visible (copy), ==, expected[i].copy);
      g_assert_cmpint (gtk_widget_get_visible (run), ==, expected[i].run);
      g_assert_nonnull (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)));
    }
  /* Markup in a reason is shown as text: unescaped, Pango would warn (fatal here). */
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (g_ptr_array_index (rows, 6))),
                            "task-observatory"));
  odd_gui_test_spin (200);
  /* PostgreSQL is missing: the local stack cannot start yet. */
  g_assert_false (odd_setup_page_get_local_ready (page));
  g_assert_false (gtk_widget_get_visible (odd_gui_test_find_button (GTK_WIDGET (page), "win.start-local-stack")));

  /* Once only cluster checks fail, the first-run button leads on to the local stack. */
  {
    g_autoptr(OddDoctorReport) fixed = report_with_every_status (TRUE);

    odd_setup_page_set_report (page, fixed);
    g_assert_cmpuint (odd_setup_page_get_rows (page)->len, ==, G_N_ELEMENTS (expected));
    g_assert_true (odd_setup_page_get_local_ready (page));
    g_assert_true (gtk_widget_get_visible (odd_gui_test_find_button (GTK_WIDGET (page), "win.start-local-stack")));
  }

  gtk_window_destroy (window);
}

static void
test_needs_terminal (void)
{
  g_assert_true (odd_doctor_fix_needs_terminal ("sudo apt-get install -y redis-server"));
  g_assert_true (odd_doctor_fix_needs_terminal ("curl -fsSLo kind https://x && sudo install -m 0755 kind /usr/local/bin/kind"));
  g_assert_true (odd_doctor_fix_needs_terminal ("sudo usermod -aG docker $USER && newgrp docker"));
  g_assert_false (odd_doctor_fix_needs_terminal ("brew install kind"));
  g_assert_false (odd_doctor_fix_needs_terminal ("oddctl local down"));
  g_assert_false (odd_doctor_fix_needs_terminal ("pseudo-tool --sudoers"));
  g_assert_false (odd_doctor_fix_needs_terminal (NULL));
}

typedef struct
{
  char *ran;
  char *toast;
} Captured;

static void
on_run (GSimpleAction *action,
        GVariant      *parameter,
        gpointer       user_data)
{
  Captured *c = user_data;

  g_free (c->ran);
  c->ran = g_variant_dup_string (parameter, NULL);
}

static void
on_toast (GSimpleAction *action,
          GVariant      *parameter,
          gpointer       user_data)
{
  Captured *c = user_data;

  g_free (c->toast);
  c->toast = g_variant_dup_string (parameter, NULL);
}

static void
test_copy_and_run (void)
{
  g_autoptr(OddDoctorReport) report = report_with_every_status (FALSE);
  OddSetupPage *page = ODD_SETUP_PAGE (odd_setup_page_new (NULL));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (page), 800, 900);
  g_autoptr(GSimpleActionGroup) win = g_simple_action_group_new ();
  const GActionEntry entries[] = {
    { "run-in-terminal", on_run, "s" },
    { "toast", on_toast, "s" },
  };
  Captured c = { 0 };
  OddDoctorRow *socket_row;

  g_action_map_add_action_entries (G_ACTION_MAP (win), entries, G_N_ELEMENTS (entries), &c);
  gtk_widget_insert_action_group (GTK_WIDGET (window), "win", G_ACTION_GROUP (win));
  odd_setup_page_set_report (page, report);
  socket_row = g_ptr_array_index (odd_setup_page_get_rows (page), 4);

  /* Copy: the exact command on the clipboard, and a toast says so. */
  g_signal_emit_by_name (odd_gui_test_find_button (GTK_WIDGET (socket_row), "row.copy-fix"), "clicked");
  {
    GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (GTK_WIDGET (socket_row)));
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_nonnull (content);
    g_value_init (&value, G_TYPE_STRING);
    g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
    g_assert_cmpstr (g_value_get_string (&value), ==, "sudo usermod -aG docker $USER && newgrp docker");
  }
  g_assert_nonnull (c.toast);

  /* Run in Terminal hands the window the command. */
  g_signal_emit_by_name (odd_gui_test_find_button (GTK_WIDGET (socket_row), "row.run-in-terminal"), "clicked");
  g_assert_cmpstr (c.ran, ==, "sudo usermod -aG docker $USER && newgrp docker");

  gtk_window_destroy (window);
  g_free (c.ran);
  g_free (c.toast);
}

static gboolean
count_tick (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

static gboolean
not_checking (gpointer data)
{
  return !odd_setup_page_get_checking (data);
}

/* "Check Again" runs the doctor on a worker thread: the window keeps drawing and answering
 * while a tool takes seconds. */
static void
test_check_does_not_block (void)
{
  OddSetupPage *page = ODD_SETUP_PAGE (odd_setup_page_new (NULL));
  GtkWindow *window = odd_gui_test_window (GTK_WIDGET (page), 800, 600);
  GtkWidget *check = odd_gui_test_find_button (GTK_WIDGET (page), "setup.check");
  const OddDoctorCheck *docker;
  guint ticks = 0;
  guint source;
  gint64 started;

  odd_doctor_set_tool_timeout (odd_setup_page_get_doctor (page), 5);
  odd_doctor_set_os_release (odd_setup_page_get_doctor (page), "ID=debian\nPRETTY_NAME=\"Debian Test\"\n");
  source = g_timeout_add (20, count_tick, &ticks);
  started = g_get_monotonic_time ();
  g_signal_emit_by_name (check, "clicked");
  g_assert_true (odd_setup_page_get_checking (page));
  g_assert_false (gtk_widget_get_sensitive (check));
  g_assert_true (odd_gui_test_wait (not_checking, page, 60));
  g_source_remove (source);

  /* The fake docker slept 2 s; meanwhile the main loop ran (a blocked loop would tick ~once). */
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (ticks, >=, 10);
  g_assert_nonnull (odd_setup_page_get_report (page));
  docker = odd_doctor_report_find (odd_setup_page_get_report (page), "docker-cli");
  g_assert_nonnull (docker);
  g_assert_cmpint (docker->status, ==, ODD_DOCTOR_OK);
  g_assert_cmpstr (odd_doctor_report_get_os_name (odd_setup_page_get_report (page)), ==, "Debian Test");
  g_assert_true (gtk_widget_get_sensitive (check));

  gtk_window_destroy (window);
}

/* In a Flatpak a fix for the host is shown to copy, never typed into the terminal tab (which
 * runs inside the sandbox), even when it needs sudo. */
static void
test_fix_on_host (void)
{
  OddDoctorCheck check = {
    .id = (char *) "docker-daemon", .name = (char *) "Docker daemon", .status = ODD_DOCTOR_FAIL,
    .reason = (char *) "not reachable", .fix = (char *) "sudo systemctl enable --now docker",
  };
  GtkWidget *here = odd_doctor_row_new (&check);
  GtkWidget *host;

  g_object_ref_sink (here);
  g_assert_true (odd_doctor_row_get_needs_terminal (ODD_DOCTOR_ROW (here)));

  check.fix_on_host = TRUE;
  host = g_object_ref_sink (odd_doctor_row_new (&check));
  g_assert_false (odd_doctor_row_get_needs_terminal (ODD_DOCTOR_ROW (host)));
  g_assert_cmpstr (odd_doctor_row_get_fix (ODD_DOCTOR_ROW (host)), ==, check.fix);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (host)), "On the host"));
  g_object_unref (here);
  g_object_unref (host);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *docker = NULL;
  int rc;

  /* A docker CLI that takes 2 s to answer, found first through ODD_TOOLS_DIR. */
  tools_dir = g_dir_make_tmp ("odd-gui-setup-XXXXXX", &error);
  g_assert_no_error (error);
  docker = g_build_filename (tools_dir, "docker", NULL);
  g_file_set_contents (docker, "#!/bin/sh\nsleep 2\necho 'Docker version 24.0.7, build afdd53b'\n", -1, &error);
  g_assert_no_error (error);
  g_chmod (docker, 0755);
  g_setenv ("ODD_TOOLS_DIR", tools_dir, TRUE);

  odd_gui_test_init (&argc, &argv);
  g_test_add_func ("/setup/rows-every-status", test_rows_every_status);
  g_test_add_func ("/setup/needs-terminal", test_needs_terminal);
  g_test_add_func ("/setup/copy-and-run", test_copy_and_run);
  g_test_add_func ("/setup/fix-on-host", test_fix_on_host);
  g_test_add_func ("/setup/check-does-not-block", test_check_does_not_block);
  rc = g_test_run ();

  g_unlink (docker);
  g_rmdir (tools_dir);
  g_free (tools_dir);
  return rc;
}
