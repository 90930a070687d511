#define G_LOG_DOMAIN "test-stack-page"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>

#include "odd-component-row.h"
#include "odd-gui-test.h"
#include "odd-stack-page.h"

/* The Stack page driven by libodd-control: the local stack (nothing running) and the kind
 * cluster against the fake docker, kind and kubectl of tests/unit/control/fake-tool.sh (the
 * cluster test's fakes): up with its progress and log, the workloads, port-forwards started
 * and stopped, a failure with its remediation, cancel, and down. */

static char *root;
static char *fake_state;
static GSubprocess *http;  /* the cluster's "mapped ports": /readyz answers 200 */
static char *mapped_ports[2];
static char *www_dir;
static OddStackMonitor *monitor;
static OddStackPage *page;
static GtkWindow *window;

static void stop_http (void);

static void
write_file (const char *dir,
            const char *name,
            const char *text,
            int         mode)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_chmod (path, mode);
}

static void
fake_set (const char *name,
          const char *value)
{
  write_file (fake_state, name, value, 0644);
}

static void
fake_clear (const char *name)
{
  g_autofree char *path = g_build_filename (fake_state, name, NULL);

  g_unlink (path);
}

static guint16
free_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, NULL);

  g_socket_listener_close (listener);
  return port;
}

static GtkWidget *
find_widget (GtkWidget   *widget,
             gboolean   (*match) (GtkWidget *widget, gconstpointer data),
             gconstpointer data)
{
  if (match (widget, data))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_component_row (GtkWidget     *widget,
                  gconstpointer  name)
{
  return ODD_IS_COMPONENT_ROW (widget) &&
         g_strcmp0 (odd_stack_entry_get_name (odd_component_row_get_entry (ODD_COMPONENT_ROW (widget))), name) == 0;
}

static gboolean
is_titled_row (GtkWidget     *widget,
               gconstpointer  title)
{
  return ADW_IS_ACTION_ROW (widget) && !ODD_IS_COMPONENT_ROW (widget) &&
         g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0;
}

static gboolean
is_label_with (GtkWidget     *widget,
               gconstpointer  text)
{
  return GTK_IS_LABEL (widget) && gtk_widget_is_drawable (widget) &&
         strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL;
}

static gboolean
shows_text (const char *text)
{
  return find_widget (GTK_WIDGET (page), is_label_with, text) != NULL;
}

static OddStackEntryHealth
health_of (GListModel *model,
           const char *name)
{
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(OddStackEntry) entry = g_list_model_get_item (model, i);

      if (g_strcmp0 (odd_stack_entry_get_name (entry), name) == 0)
        return odd_stack_entry_get_health (entry);
    }
  g_error ("no entry %s", name);
}

static void
activate (const char *action,
          GVariant   *target)
{
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (page), action, target));
}

static gboolean
idle_and_known (void)
{
  return !odd_stack_monitor_get_busy (monitor) && odd_stack_monitor_get_state (monitor) != ODD_STACK_STATE_UNKNOWN;
}

static void
test_local_stopped (void)
{
  GListModel *components = odd_stack_monitor_get_components (monitor);
  const char * const *names = odd_local_stack_component_names ();
  GtkWidget *row;

  odd_stack_monitor_refresh (monitor);
  ODD_GUI_ASSERT_WITHIN (odd_stack_monitor_get_state (monitor) == ODD_STACK_STATE_STOPPED, 30);
  g_assert_cmpuint (g_list_model_get_n_items (components), ==, g_strv_length ((char **) names));
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_assert_cmpint (health_of (components, names[i]), ==, ODD_STACK_ENTRY_STOPPED);
      g_assert_nonnull (find_widget (GTK_WIDGET (page), is_component_row, names[i]));
    }
  ODD_GUI_ASSERT_WITHIN (shows_text ("Local Stack Stopped"), 30);
  g_assert_true (shows_text ("ports 46100–46773"));
  g_assert_true (shows_text ("port 46400"));   /* the gateway's row */

  /* The docs of the gateway wait for a running stack; Grafana needs the cluster. */
  row = find_widget (GTK_WIDGET (page), is_titled_row, "Gateway API Docs");
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Start the stack first");
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (g_object_get_data (G_OBJECT (row), "open-button"))));
  row = find_widget (GTK_WIDGET (page), is_titled_row, "Grafana");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Runs in the kind cluster only");
  g_assert_cmpstr (odd_stack_monitor_get_read_model_url (monitor), ==, "http://127.0.0.1:46180");
}

static void
test_kind_up (void)
{
  g_autofree char *log = NULL;

  /* Switching through the page's toggle (its stateful action). */
  activate ("stack.kind", g_variant_new_string ("kind"));
  g_assert_cmpint (odd_stack_monitor_get_kind (monitor), ==, ODD_STACK_KIND_KIND);
  ODD_GUI_ASSERT_WITHIN (idle_and_known (), 30);
  g_assert_cmpint (odd_stack_monitor_get_state (monitor), ==, ODD_STACK_STATE_STOPPED);
  ODD_GUI_ASSERT_WITHIN (shows_text ("No Kind Cluster"), 30);
  g_assert_true (shows_text ("No cluster yet"));

  activate ("stack.start", NULL);
  g_assert_true (odd_stack_monitor_get_busy (monitor));
  g_assert_true (shows_text ("Creating the Kind Cluster"));
  ODD_GUI_ASSERT_WITHIN (!odd_stack_monitor_get_busy (monitor), 90);
  if (odd_stack_monitor_get_error (monitor) != NULL)
    {
      g_autofree char *text = odd_stack_page_dup_log (page);

      g_error ("%s\n%s\n%s", odd_stack_monitor_get_error (monitor),
               odd_stack_monitor_get_remediation (monitor), text);
    }
  g_assert_cmpfloat (odd_stack_monitor_get_fraction (monitor), ==, 1.0);
  ODD_GUI_ASSERT_WITHIN (odd_stack_monitor_get_state (monitor) == ODD_STACK_STATE_RUNNING, 30);
  ODD_GUI_ASSERT_WITHIN (shows_text ("Kind Cluster Running"), 30);

  /* Every workload a row, healthy, with its replicas. */
  g_assert_cmpint (health_of (odd_stack_monitor_get_components (monitor), "gateway"), ==, ODD_STACK_ENTRY_HEALTHY);
  g_assert_cmpint (health_of (odd_stack_monitor_get_components (monitor), "postgres"), ==, ODD_STACK_ENTRY_HEALTHY);
  g_assert_nonnull (find_widget (GTK_WIDGET (page), is_component_row, "gateway"));
  g_assert_true (shows_text ("Deployment · 1/1 ready · 0 restarts"));

  /* The gateway's docs through the port the cluster maps. */
  {
    GtkWidget *docs = find_widget (GTK_WIDGET (page), is_titled_row, "Gateway API Docs");
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%s/docs", mapped_ports[0]);

    g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (docs)), ==, url);
  }

  /* The step log holds the progress stream. */
  log = odd_stack_page_dup_log (page);
  g_assert_nonnull (strstr (log, "cluster"));
  g_assert_nonnull (strstr (log, "image"));
}

static void
test_kind_forwards (void)
{
  GListModel *forwards = odd_stack_monitor_get_forwards (monitor);
  GtkWidget *link;

  g_assert_cmpuint (g_list_model_get_n_items (forwards), ==, 4);
  g_assert_cmpint (health_of (forwards, "grafana"), ==, ODD_STACK_ENTRY_STOPPED);
  g_assert_nonnull (find_widget (GTK_WIDGET (page), is_component_row, "grafana"));
  link = find_widget (GTK_WIDGET (page), is_titled_row, "Grafana");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (link)), ==, "Start its port-forward first");

  activate ("stack.forward-start", g_variant_new_string ("grafana"));
  ODD_GUI_ASSERT_WITHIN (health_of (forwards, "grafana") == ODD_STACK_ENTRY_HEALTHY, 60);
  g_assert_null (odd_stack_monitor_get_error (monitor));
  ODD_GUI_ASSERT_WITHIN (g_str_has_prefix (adw_action_row_get_subtitle (ADW_ACTION_ROW (link)), "http://127.0.0.1:"), 10);
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (g_object_get_data (G_OBJECT (link), "open-button"))));

  activate ("stack.forward-stop", g_variant_new_string ("grafana"));
  ODD_GUI_ASSERT_WITHIN (health_of (forwards, "grafana") == ODD_STACK_ENTRY_STOPPED, 60);
}

static void
test_kind_failure (void)
{
  activate ("stack.stop", NULL);
  ODD_GUI_ASSERT_WITHIN (!odd_stack_monitor_get_busy (monitor), 60);
  ODD_GUI_ASSERT_WITHIN (odd_stack_monitor_get_state (monitor) == ODD_STACK_STATE_STOPPED, 30);
  stop_http ();  /* kind deleted the node: its port mappings are gone */

  fake_set ("fail", "docker build*");
  fake_set ("fail-output", "failed to solve: no space left on device");
  activate ("stack.start", NULL);
  ODD_GUI_ASSERT_WITHIN (!odd_stack_monitor_get_busy (monitor), 60);
  fake_clear ("fail");
  fake_clear ("fail-output");

  /* The error and what to do about it, shown and copyable. */
  g_assert_nonnull (odd_stack_monitor_get_error (monitor));
  g_assert_nonnull (odd_stack_monitor_get_remediation (monitor));
  {
    g_autofree char *log = odd_stack_page_dup_log (page);

    g_autofree char *all = g_strjoin ("\n", odd_stack_monitor_get_error (monitor),
                                      odd_stack_monitor_get_remediation (monitor), log, NULL);

    /* The build's own words reach the user. */
    if (strstr (all, "no space left on device") == NULL)
      g_error ("the failure does not show docker's output:\n%s", all);
  }
  odd_gui_test_spin (100);
  g_assert_true (shows_text (odd_stack_monitor_get_error (monitor)));
  activate ("stack.copy-failure", NULL);
  {
    GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (GTK_WIDGET (page)));
    g_auto(GValue) value = G_VALUE_INIT;

    g_value_init (&value, G_TYPE_STRING);
    g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
    g_assert_true (g_str_has_prefix (g_value_get_string (&value), odd_stack_monitor_get_error (monitor)));
    g_assert_nonnull (strstr (g_value_get_string (&value), odd_stack_monitor_get_remediation (monitor)));
  }
}

static void
test_kind_cancel (void)
{
  g_autofree char *sleep_pid = g_build_filename (fake_state, "sleep.pid", NULL);

  activate ("stack.stop", NULL);
  ODD_GUI_ASSERT_WITHIN (!odd_stack_monitor_get_busy (monitor), 60);
  ODD_GUI_ASSERT_WITHIN (odd_stack_monitor_get_state (monitor) == ODD_STACK_STATE_STOPPED, 30);
  stop_http ();

  fake_set ("slow", "kubectl*rollout status deployment/processor*");
  fake_set ("slow-seconds", "60");
  activate ("stack.start", NULL);
  g_assert_true (odd_stack_monitor_get_busy (monitor));
  /* The fake writes sleep.pid when it starts to take its time. */
  ODD_GUI_ASSERT_WITHIN (g_file_test (sleep_pid, G_FILE_TEST_EXISTS), 60);
  g_assert_true (odd_stack_monitor_get_busy (monitor));
  activate ("stack.cancel", NULL);
  ODD_GUI_ASSERT_WITHIN (!odd_stack_monitor_get_busy (monitor), 30);
  fake_clear ("slow");
  fake_clear ("slow-seconds");

  /* Cancelled is not a failure. */
  g_assert_null (odd_stack_monitor_get_error (monitor));
  g_assert_true (g_str_has_prefix (odd_stack_monitor_get_step_message (monitor), "Cancelled"));
}

static void
test_kind_down (void)
{
  activate ("stack.stop", NULL);
  ODD_GUI_ASSERT_WITHIN (!odd_stack_monitor_get_busy (monitor), 60);
  ODD_GUI_ASSERT_WITHIN (odd_stack_monitor_get_state (monitor) == ODD_STACK_STATE_STOPPED, 30);
  g_assert_null (odd_stack_monitor_get_error (monitor));
  /* The page follows the monitor from its main loop: wait for it, on a loaded machine too. */
  ODD_GUI_ASSERT_WITHIN (shows_text ("No Kind Cluster"), 30);
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
port_free (guint16 port)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();

  return g_socket_listener_add_inet_port (listener, port, NULL, NULL);
}

static void
stop_http (void)
{
  if (http == NULL)
    return;
  g_subprocess_send_signal (http, SIGTERM);
  g_subprocess_wait (http, NULL, NULL);
  g_clear_object (&http);
  /* Its two servers end a moment after the shell. */
  for (guint i = 0; i < G_N_ELEMENTS (mapped_ports); i++)
    ODD_GUI_ASSERT_WITHIN (port_free ((guint16) atoi (mapped_ports[i])), 20);
}

/* The "mapped ports" answer /readyz once the cluster exists (kind maps them when it creates
 * the node; before, `up` checks that they are free). */
static void
on_progress (OddStackMonitor *m,
             const char      *step,
             int              status,
             const char      *message,
             double           fraction)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;

  if (http != NULL || g_strcmp0 (step, "cluster") != 0 ||
      (status != ODD_PROGRESS_OK && status != ODD_PROGRESS_SKIPPED))
    return;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  /* They end with this test, also when it aborts. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  http = g_subprocess_launcher_spawn (launcher, &error, "sh", "-c",
                                      "python3 -m http.server --bind 127.0.0.1 --directory \"$1\" \"$2\" & a=$!; "
                                      "python3 -m http.server --bind 127.0.0.1 --directory \"$1\" \"$3\" & b=$!; "
                                      "trap 'kill $a $b; exit 0' TERM; wait",
                                      "sh", www_dir, mapped_ports[0], mapped_ports[1], NULL);
  g_assert_no_error (error);
}

static void
set_up_fakes (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fake_tool = NULL;
  g_autofree char *bin = g_build_filename (root, "bin", NULL);
  g_autofree char *deploy = g_build_filename (root, "src", "services", "deploy", NULL);
  g_autofree char *overlay = g_build_filename (deploy, "overlays", "kind", NULL);
  g_autofree char *base = g_build_filename (deploy, "base", NULL);
  g_autofree char *www = g_build_filename (root, "www", NULL);
  g_autofree char *local = g_build_filename (root, "local", NULL);
  g_autofree char *xdg = g_build_filename (root, "xdg", NULL);
  g_autofree char *src = g_build_filename (root, "src", NULL);
  g_autofree char *gateway = NULL, *read_model = NULL, *forwards = NULL;
  guint16 gw = free_port (), rm = free_port ();
  const char * const tools[] = { "docker", "kind", "kubectl", NULL };

  fake_state = g_build_filename (root, "fake", NULL);
  g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (fake_state, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (overlay, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (base, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (www, 0755), ==, 0);
  g_file_get_contents (ODD_FAKE_TOOL, &fake_tool, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; tools[i] != NULL; i++)
    write_file (bin, tools[i], fake_tool, 0755);
  write_file (deploy, "Dockerfile", "FROM scratch\n", 0644);
  write_file (www, "readyz", "ok\n", 0644);

  /* A cluster whose node and workloads are all ready. */
  fake_set ("nodes.json", "{\"items\":[{\"metadata\":{\"name\":\"task-observatory-control-plane\"},"
                          "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}]}");
  fake_set ("workloads.json", "{\"items\":["
            "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"gateway\"},\"spec\":{\"replicas\":1},\"status\":{\"readyReplicas\":1}},"
            "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"read-model\"},\"spec\":{\"replicas\":1},\"status\":{\"readyReplicas\":1}},"
            "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"postgres\"},\"spec\":{\"replicas\":1},\"status\":{\"readyReplicas\":1}}]}");
  fake_set ("pods.json", "{\"items\":[]}");

  g_setenv ("FAKE_STATE", fake_state, TRUE);
  g_setenv ("ODD_TOOLS_DIR", bin, TRUE);
  g_setenv ("ODD_SOURCE_DIR", src, TRUE);
  g_setenv ("ODD_DEPLOY_DIR", deploy, TRUE);
  g_setenv ("XDG_STATE_HOME", xdg, TRUE);
  g_setenv ("ODD_STATE_DIR", local, TRUE);
  g_setenv ("ODD_PORT_BASE", "46100", TRUE);
  gateway = g_strdup_printf ("%u", gw);
  read_model = g_strdup_printf ("%u", rm);
  g_setenv ("ODD_CLUSTER_GATEWAY_PORT", gateway, TRUE);
  g_setenv ("ODD_CLUSTER_READ_MODEL_PORT", read_model, TRUE);
  forwards = g_strdup_printf ("grafana=%u,prometheus=%u,alertmanager=%u,rabbitmq=%u",
                              free_port (), free_port (), free_port (), free_port ());
  g_setenv ("ODD_CLUSTER_FORWARD_PORTS", forwards, TRUE);
  g_setenv ("ODD_CLUSTER_ROLLOUT_TIMEOUT", "120", TRUE);

  mapped_ports[0] = g_strdup (gateway);
  mapped_ports[1] = g_strdup (read_model);
  www_dir = g_strdup (www);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int rc;

  root = g_dir_make_tmp ("odd-gui-stack-XXXXXX", &error);
  g_assert_no_error (error);
  set_up_fakes ();  /* the environment, before any thread */

  odd_gui_test_init (&argc, &argv);
  monitor = odd_stack_monitor_new ();
  odd_cluster_set_verify_timeout (odd_stack_monitor_get_cluster (monitor), 20);
  g_signal_connect (monitor, "progress", G_CALLBACK (on_progress), NULL);
  page = ODD_STACK_PAGE (odd_stack_page_new (monitor));
  window = odd_gui_test_window (GTK_WIDGET (page), 900, 1100);

  g_test_add_func ("/stack/local-stopped", test_local_stopped);
  g_test_add_func ("/stack/kind-up", test_kind_up);
  g_test_add_func ("/stack/kind-forwards", test_kind_forwards);
  g_test_add_func ("/stack/kind-failure", test_kind_failure);
  g_test_add_func ("/stack/kind-cancel", test_kind_cancel);
  g_test_add_func ("/stack/kind-down", test_kind_down);
  rc = g_test_run ();

  gtk_window_destroy (window);
  g_clear_object (&monitor);
  stop_http ();
  {
    g_autofree char *quoted = g_shell_quote (root);
    g_autofree char *command = g_strdup_printf ("rm -rf %s", quoted);

    g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL);
  }
  return rc;
}
