#define G_LOG_DOMAIN "odd-application"

#include <glib/gi18n.h>

#include "odd-application.h"
#include "odd-build-config.h"
#include "odd-gui.h"
#include "odd-window.h"

/* Seconds between stack statuses while no page shows the components. */
#define ODD_APPLICATION_UNWATCHED_STATUS_S 60

struct _OddApplication
{
  AdwApplication   parent_instance;

  GSettings       *settings;
  OddStackMonitor *monitor;
  char            *page;      /* --page */
};

G_DEFINE_FINAL_TYPE (OddApplication, odd_application, ADW_TYPE_APPLICATION)

static OddWindow *
active_window (OddApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  return ODD_IS_WINDOW (window) ? ODD_WINDOW (window) : NULL;
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (user_data));

  /* Closing each window ends what its tabs run. */
  for (GList *l = windows; l != NULL;)
    {
      GtkWindow *window = l->data;

      l = l->next;
      gtk_window_close (window);
    }
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  OddApplication *self = user_data;
  const char *developers[] = { "The Distributed Task Observatory developers", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "application-icon", ODD_APP_ID,
                        "application-name", _("Observatory"),
                        "developer-name", _("The Distributed Task Observatory developers"),
                        "version", ODD_VERSION,
                        "comments", _("Set up, run and watch the Distributed Task Observatory: "
                                      "checks this computer, starts the local stack or a kind "
                                      "cluster, and shows it in a terminal dashboard."),
                        "developers", developers,
                        "license-type", GTK_LICENSE_MIT_X11,
                        /* Translators: your name and e-mail, one per line */
                        "translator-credits", _("translator-credits"),
                        "debug-info", "odd-observatory " ODD_VERSION " (" ODD_COMMIT ")",
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
start_stack_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  OddApplication *self = user_data;
  OddWindow *window = active_window (self);

  odd_stack_monitor_start (self->monitor);
  if (window != NULL)
    odd_window_show_page (window, "stack");
}

static void
stop_stack_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  OddApplication *self = user_data;
  OddWindow *window = active_window (self);

  odd_stack_monitor_stop (self->monitor);
  if (window != NULL)
    odd_window_show_page (window, "stack");
}

static const GActionEntry app_entries[] = {
  { "quit", quit_activated },
  { "about", about_activated },
  { "start-stack", start_stack_activated },
  { "stop-stack", stop_stack_activated },
};

/* The first run is done once a stack ran. */
static void
on_state_changed (OddApplication *self)
{
  if (odd_stack_monitor_get_state (self->monitor) == ODD_STACK_STATE_RUNNING &&
      !g_settings_get_boolean (self->settings, "first-run-done"))
    g_settings_set_boolean (self->settings, "first-run-done", TRUE);
}

static void
odd_application_startup (GApplication *application)
{
  OddApplication *self = ODD_APPLICATION (application);
  static const struct
  {
    const char *action;
    const char *accels[4];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.start-stack", { "<Control><Shift>s", NULL } },
    { "app.stop-stack", { "<Control><Shift>x", NULL } },
    { "win.show-page::setup", { "<Alt>1", NULL } },
    { "win.show-page::stack", { "<Alt>2", NULL } },
    { "win.show-page::dashboard", { "<Alt>3", NULL } },
    { "win.show-page::jobs", { "<Alt>4", NULL } },
    { "win.show-page::terminal", { "<Alt>5", NULL } },
    { "win.new-terminal-tab", { "<Control><Shift>t", NULL } },
    { "win.copy", { "<Control><Shift>c", NULL } },
    { "win.paste", { "<Control><Shift>v", NULL } },
    { "win.zoom-in", { "<Control>plus", "<Control>equal", "<Control>KP_Add", NULL } },
    { "win.zoom-out", { "<Control>minus", "<Control>KP_Subtract", NULL } },
    { "win.zoom-normal", { "<Control>0", "<Control>KP_0", NULL } },
  };

  /* GtkApplication looks for gtk/help-overlay.ui in the resources while it starts up. */
  odd_gui_register_resources ();
  G_APPLICATION_CLASS (odd_application_parent_class)->startup (application);
  odd_gui_init ();

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_entries, G_N_ELEMENTS (app_entries), self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);

  self->settings = g_settings_new (ODD_APP_ID);
  self->monitor = odd_stack_monitor_new ();
  g_settings_bind (self->settings, "stack-kind", self->monitor, "kind", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "refresh-interval", self->monitor, "refresh-interval", G_SETTINGS_BIND_GET);
  /* Unwatched (no page shows the components), the state alone matters: the first run is done
   * once a stack ran, and a stack started elsewhere shows up within a minute. */
  g_object_set (self->monitor, "unwatched-interval", ODD_APPLICATION_UNWATCHED_STATUS_S, NULL);
  g_settings_bind (self->settings, "read-model-url", self->monitor, "read-model-override", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "gateway-url", self->monitor, "gateway-override", G_SETTINGS_BIND_GET);
  g_signal_connect_object (self->monitor, "notify::state", G_CALLBACK (on_state_changed), self, G_CONNECT_SWAPPED);
  odd_stack_monitor_refresh (self->monitor);
}

static void
odd_application_activate (GApplication *application)
{
  OddApplication *self = ODD_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (odd_window_new (self));
  if (self->page != NULL)
    odd_window_show_page (ODD_WINDOW (window), self->page);
  gtk_window_present (window);
}

static int
odd_application_handle_local_options (GApplication *application,
                                      GVariantDict *options)
{
  OddApplication *self = ODD_APPLICATION (application);
  const char *page = NULL;

  if (g_variant_dict_lookup (options, "page", "&s", &page))
    {
      static const char * const pages[] = { "setup", "stack", "dashboard", "jobs", "terminal", NULL };

      if (!g_strv_contains (pages, page))
        {
          g_printerr (_("Unknown page “%s”: use setup, stack, dashboard, jobs or terminal\n"), page);
          return 2;
        }
      g_free (self->page);
      self->page = g_strdup (page);
    }
  return -1;
}

static void
odd_application_shutdown (GApplication *application)
{
  OddApplication *self = ODD_APPLICATION (application);

  g_clear_object (&self->monitor);
  g_clear_object (&self->settings);

  G_APPLICATION_CLASS (odd_application_parent_class)->shutdown (application);
}

static void
odd_application_finalize (GObject *object)
{
  g_free (ODD_APPLICATION (object)->page);

  G_OBJECT_CLASS (odd_application_parent_class)->finalize (object);
}

static void
odd_application_class_init (OddApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = odd_application_finalize;
  app_class->startup = odd_application_startup;
  app_class->activate = odd_application_activate;
  app_class->shutdown = odd_application_shutdown;
  app_class->handle_local_options = odd_application_handle_local_options;
}

static void
odd_application_init (OddApplication *self)
{
  const GOptionEntry options[] = {
    { "page", 'p', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
      N_("Open on PAGE: setup, stack, dashboard, jobs or terminal"), N_("PAGE") },
    { NULL },
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

OddApplication *
odd_application_new (void)
{
  return g_object_new (ODD_TYPE_APPLICATION,
                       "application-id", ODD_APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", ODD_RESOURCE_PREFIX,
                       NULL);
}

GSettings *
odd_application_get_settings (OddApplication *self)
{
  g_return_val_if_fail (ODD_IS_APPLICATION (self), NULL);
  return self->settings;
}

OddStackMonitor *
odd_application_get_monitor (OddApplication *self)
{
  g_return_val_if_fail (ODD_IS_APPLICATION (self), NULL);
  return self->monitor;
}
