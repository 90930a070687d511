#define G_LOG_DOMAIN "odd-window"

#include <sys/resource.h>
#include <glib/gi18n.h>

#include "odd-notifier.h"
#include "odd-window.h"

struct _OddWindow
{
  AdwApplicationWindow  parent_instance;

  AdwToastOverlay      *toast_overlay;
  AdwViewStack         *view_stack;

  OddSetupPage         *setup_page;
  OddStackPage         *stack_page;
  OddTerminalPage      *terminal_page;
  OddDashboardPage     *dashboard_page;
  OddJobsPage          *jobs_page;
  OddClient            *client;
  OddNotifier          *notifier;
  GSettings            *settings;
  OddStackMonitor      *monitor;
  gboolean              doctor_ran;
  gboolean              dashboard_opened;
  guint                 first_page_idle;
};

G_DEFINE_FINAL_TYPE (OddWindow, odd_window, ADW_TYPE_APPLICATION_WINDOW)

void
odd_window_add_toast (OddWindow  *self,
                      const char *message)
{
  g_return_if_fail (ODD_IS_WINDOW (self));

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

void
odd_window_show_page (OddWindow  *self,
                      const char *name)
{
  g_return_if_fail (ODD_IS_WINDOW (self));

  if (adw_view_stack_get_child_by_name (self->view_stack, name) != NULL)
    adw_view_stack_set_visible_child_name (self->view_stack, name);
}

const char *
odd_window_get_page_name (OddWindow *self)
{
  g_return_val_if_fail (ODD_IS_WINDOW (self), NULL);
  return adw_view_stack_get_visible_child_name (self->view_stack);
}

/* Pages do their slow work the first time they are shown, not at startup. */
static void
on_visible_page (OddWindow *self)
{
  const char *name = adw_view_stack_get_visible_child_name (self->view_stack);

  if (g_strcmp0 (name, "setup") == 0 && !self->doctor_ran && odd_setup_page_get_report (self->setup_page) == NULL)
    {
      self->doctor_ran = TRUE;
      odd_setup_page_check (self->setup_page);
    }
  else if (g_strcmp0 (name, "terminal") == 0 && !self->dashboard_opened)
    {
      self->dashboard_opened = TRUE;
      if (odd_terminal_page_get_n_tabs (self->terminal_page) == 0)
        odd_terminal_page_show_dashboard (self->terminal_page);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Actions */

static void
show_page_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  odd_window_show_page (ODD_WINDOW (user_data), g_variant_get_string (parameter, NULL));
}

static void
new_terminal_tab_activated (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  OddWindow *self = user_data;

  self->dashboard_opened = TRUE;
  odd_window_show_page (self, "terminal");
  odd_terminal_page_add_tab (self->terminal_page, ODD_TERMINAL_SHELL, NULL);
}

static void
show_dashboard_activated (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  OddWindow *self = user_data;

  self->dashboard_opened = TRUE;
  odd_window_show_page (self, "terminal");
  odd_terminal_page_show_dashboard (self->terminal_page);
}

static void
run_in_terminal_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  OddWindow *self = user_data;

  self->dashboard_opened = TRUE;
  odd_window_show_page (self, "terminal");
  odd_terminal_page_run_command (self->terminal_page, g_variant_get_string (parameter, NULL));
  odd_window_add_toast (self, _("Press Enter in the terminal to run the command"));
}

static void
start_local_stack_activated (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  OddWindow *self = user_data;

  odd_stack_monitor_set_kind (self->monitor, ODD_STACK_KIND_LOCAL);
  odd_stack_monitor_start (self->monitor);
  odd_window_show_page (self, "stack");
}

static void
copy_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  odd_terminal_page_copy (ODD_WINDOW (user_data)->terminal_page);
}

static void
paste_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  odd_terminal_page_paste (ODD_WINDOW (user_data)->terminal_page);
}

static void
zoom (OddWindow *self,
      double     factor)
{
  double scale = factor == 0.0 ? 1.0 : g_settings_get_double (self->settings, "terminal-font-scale") * factor;

  g_settings_set_double (self->settings, "terminal-font-scale", CLAMP (scale, 0.5, 3.0));
}

static void
zoom_in_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  zoom (ODD_WINDOW (user_data), 1.1);
}

static void
zoom_out_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  zoom (ODD_WINDOW (user_data), 1.0 / 1.1);
}

static void
zoom_normal_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  zoom (ODD_WINDOW (user_data), 0.0);
}

static void
toast_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  odd_window_add_toast (ODD_WINDOW (user_data), g_variant_get_string (parameter, NULL));
}

static const GActionEntry win_entries[] = {
  { "show-page", show_page_activated, "s" },
  { "new-terminal-tab", new_terminal_tab_activated },
  { "show-dashboard", show_dashboard_activated },
  { "run-in-terminal", run_in_terminal_activated, "s" },
  { "start-local-stack", start_local_stack_activated },
  { "copy", copy_activated },
  { "paste", paste_activated },
  { "zoom-in", zoom_in_activated },
  { "zoom-out", zoom_out_activated },
  { "zoom-normal", zoom_normal_activated },
  { "toast", toast_activated, "s" },
};

/* ------------------------------------------------------------------------------------ */

static gboolean
odd_window_close_request (GtkWindow *window)
{
  OddWindow *self = ODD_WINDOW (window);
  int width, height;

  /* What the tabs run ends with the window (the stack keeps running, as with oddctl). */
  odd_terminal_page_terminate_all (self->terminal_page);

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set (self->settings, "window-size", "(ii)", width, height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  return GTK_WINDOW_CLASS (odd_window_parent_class)->close_request != NULL &&
         GTK_WINDOW_CLASS (odd_window_parent_class)->close_request (window);
}

/* ODD_OBSERVATORY_FRAME_LOG=FILE: "WALL_NS CPU_US" of the first frame, for
 * tests/bench/app-bench.sh. */
static void
on_after_paint (GdkFrameClock *clock,
                OddWindow     *self)
{
  const char *path = g_getenv ("ODD_OBSERVATORY_FRAME_LOG");
  struct rusage usage = { 0 };
  g_autofree char *stamp = NULL;

  /* The wall-clock time and the CPU time the process used until then (a loaded machine
   * stretches the first, hardly the second). */
  getrusage (RUSAGE_SELF, &usage);
  stamp = g_strdup_printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", g_get_real_time () * 1000,
                           (gint64) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_USEC_PER_SEC +
                           usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);

  g_signal_handlers_disconnect_by_func (clock, on_after_paint, self);
  g_file_set_contents (path, stamp, -1, NULL);
}

static gboolean
first_page_shown (gpointer data)
{
  OddWindow *self = data;

  self->first_page_idle = 0;
  on_visible_page (self);
  return G_SOURCE_REMOVE;
}

static gboolean
notifier_interval (GValue   *value,
                   GVariant *variant,
                   gpointer  user_data)
{
  g_value_set_uint (value, MAX (g_variant_get_uint32 (variant), ODD_NOTIFIER_MIN_INTERVAL_S));
  return TRUE;
}

static void
odd_window_map (GtkWidget *widget)
{
  OddWindow *self = ODD_WINDOW (widget);

  GTK_WIDGET_CLASS (odd_window_parent_class)->map (widget);

  /* The first page's slow work (the doctor, the dashboard) starts after the first frame,
   * on the page the window opens with (the application may have chosen another). */
  if (self->first_page_idle == 0 && !self->doctor_ran && !self->dashboard_opened)
    self->first_page_idle = g_idle_add_full (G_PRIORITY_LOW, first_page_shown, self, NULL);

  if (g_getenv ("ODD_OBSERVATORY_FRAME_LOG") != NULL)
    g_signal_connect_object (gtk_widget_get_frame_clock (widget), "after-paint",
                             G_CALLBACK (on_after_paint), widget, 0);
}

static void
odd_window_dispose (GObject *object)
{
  OddWindow *self = ODD_WINDOW (object);

  g_clear_handle_id (&self->first_page_idle, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), ODD_TYPE_WINDOW);
  g_clear_object (&self->settings);
  g_clear_object (&self->monitor);
  if (self->notifier != NULL)
    odd_notifier_stop (self->notifier);
  g_clear_object (&self->notifier);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (odd_window_parent_class)->dispose (object);
}

static void
odd_window_class_init (OddWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = odd_window_dispose;
  window_class->close_request = odd_window_close_request;
  widget_class->map = odd_window_map;

  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-window.ui");
  gtk_widget_class_bind_template_child (widget_class, OddWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, OddWindow, view_stack);
}

static void
odd_window_init (OddWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries, G_N_ELEMENTS (win_entries), self);
}

/* The pages that read the system follow the stack the monitor knows (or the override). */
static OddEndpoints *
current_endpoints (OddWindow *self)
{
  const char *read_model = odd_stack_monitor_get_read_model_url (self->monitor);
  const char *gateway = odd_stack_monitor_get_gateway_url (self->monitor);

  if (read_model == NULL || gateway == NULL)
    return odd_endpoints_discover ();
  return odd_endpoints_new (read_model, gateway, ODD_ENDPOINTS_SOURCE_STACK);
}

static void
on_endpoints_changed (OddWindow *self)
{
  g_autoptr(OddEndpoints) endpoints = current_endpoints (self);

  odd_client_set_endpoints (self->client, endpoints);
}

static void
add_page (OddWindow  *self,
          GtkWidget  *page,
          const char *name,
          const char *title,
          const char *icon)
{
  AdwViewStackPage *stack_page = adw_view_stack_add_titled (self->view_stack, page, name, title);

  adw_view_stack_page_set_icon_name (stack_page, icon);
}

OddWindow *
odd_window_new (OddApplication *application)
{
  OddWindow *self;
  int width = 0, height = 0;

  g_return_val_if_fail (ODD_IS_APPLICATION (application), NULL);

  self = g_object_new (ODD_TYPE_WINDOW, "application", application, NULL);
  self->settings = g_object_ref (odd_application_get_settings (application));
  self->monitor = g_object_ref (odd_application_get_monitor (application));

  self->setup_page = ODD_SETUP_PAGE (odd_setup_page_new (self->monitor));
  self->stack_page = ODD_STACK_PAGE (odd_stack_page_new (self->monitor));
  self->terminal_page = ODD_TERMINAL_PAGE (odd_terminal_page_new (self->monitor));
  {
    g_autoptr(OddEndpoints) endpoints = current_endpoints (self);

    self->client = odd_client_new (endpoints);
  }
  g_signal_connect_object (self->monitor, "notify::read-model-url", G_CALLBACK (on_endpoints_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->monitor, "notify::gateway-url", G_CALLBACK (on_endpoints_changed), self,
                           G_CONNECT_SWAPPED);
  self->dashboard_page = ODD_DASHBOARD_PAGE (odd_dashboard_page_new (self->client));
  self->jobs_page = ODD_JOBS_PAGE (odd_jobs_page_new (self->client));
  add_page (self, GTK_WIDGET (self->setup_page), "setup", _("Setup"), "emblem-system-symbolic");
  add_page (self, GTK_WIDGET (self->stack_page), "stack", _("Stack"), "network-server-symbolic");
  add_page (self, GTK_WIDGET (self->dashboard_page), "dashboard", _("Dashboard"), "odd-dashboard-symbolic");
  add_page (self, GTK_WIDGET (self->jobs_page), "jobs", _("Jobs"), "view-list-symbolic");
  add_page (self, GTK_WIDGET (self->terminal_page), "terminal", _("Terminal"), "utilities-terminal-symbolic");

  g_settings_bind (self->settings, "terminal-font-scale", self->terminal_page, "font-scale", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "refresh-interval", self->dashboard_page, "refresh-interval", G_SETTINGS_BIND_GET);
  /* Notifications come while the window is open, whichever page it shows. */
  self->notifier = odd_notifier_new (G_APPLICATION (application), self->client);
  g_settings_bind_with_mapping (self->settings, "refresh-interval", self->notifier, "interval", G_SETTINGS_BIND_GET,
                                notifier_interval, NULL, NULL, NULL);
  g_settings_bind (self->settings, "failure-rate-threshold", self->notifier, "failure-threshold", G_SETTINGS_BIND_GET);
  odd_notifier_start (self->notifier);
  g_settings_get (self->settings, "window-size", "(ii)", &width, &height);
  if (width > 0 && height > 0)
    gtk_window_set_default_size (GTK_WINDOW (self), width, height);
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  /* First run: Setup, the way from nothing to a running stack; afterwards the stack. */
  odd_window_show_page (self, g_settings_get_boolean (self->settings, "first-run-done") ? "stack" : "setup");
  g_signal_connect_object (self->view_stack, "notify::visible-child", G_CALLBACK (on_visible_page), self,
                           G_CONNECT_SWAPPED);

  return self;
}

OddDashboardPage *
odd_window_get_dashboard_page (OddWindow *self)
{
  g_return_val_if_fail (ODD_IS_WINDOW (self), NULL);
  return self->dashboard_page;
}

OddJobsPage *
odd_window_get_jobs_page (OddWindow *self)
{
  g_return_val_if_fail (ODD_IS_WINDOW (self), NULL);
  return self->jobs_page;
}

OddSetupPage *
odd_window_get_setup_page (OddWindow *self)
{
  g_return_val_if_fail (ODD_IS_WINDOW (self), NULL);
  return self->setup_page;
}

OddStackPage *
odd_window_get_stack_page (OddWindow *self)
{
  g_return_val_if_fail (ODD_IS_WINDOW (self), NULL);
  return self->stack_page;
}

OddTerminalPage *
odd_window_get_terminal_page (OddWindow *self)
{
  g_return_val_if_fail (ODD_IS_WINDOW (self), NULL);
  return self->terminal_page;
}
