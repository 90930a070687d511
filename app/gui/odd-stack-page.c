#define G_LOG_DOMAIN "odd-stack-page"

#include <glib/gi18n.h>

#include "odd-component-row.h"
#include "odd-stack-page.h"
#include "odd-ui-links.h"

struct _OddStackPage
{
  AdwBin               parent_instance;

  GtkLabel            *title_label;
  GtkLabel            *location_label;
  GtkWidget           *kind_box;
  GtkWidget           *cancel_button;
  GtkWidget           *progress_box;
  GtkProgressBar      *progress_bar;
  GtkLabel            *step_label;
  GtkWidget           *failure_box;
  GtkLabel            *error_label;
  GtkLabel            *remediation_label;
  GtkListBox          *components_list;
  AdwPreferencesGroup *forwards_group;
  GtkListBox          *forwards_list;
  AdwPreferencesGroup *links_group;
  GtkExpander         *log_expander;
  GtkTextView         *log_view;

  GtkLabel            *components_placeholder;
  OddStackMonitor     *monitor;
  GSimpleActionGroup  *actions;
  GPtrArray           *links;       /* OddUiLink */
  GPtrArray           *link_rows;   /* AdwActionRow, one per link */
  guint                links_idle;
};

G_DEFINE_FINAL_TYPE (OddStackPage, odd_stack_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_MONITOR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ------------------------------------------------------------------------------------ */
/* Showing the monitor */

static const char *
title_for (OddStackMonitor *monitor)
{
  gboolean local = odd_stack_monitor_get_kind (monitor) == ODD_STACK_KIND_LOCAL;

  if (odd_stack_monitor_get_busy (monitor))
    {
      if (odd_stack_monitor_get_starting (monitor))
        return local ? _("Starting the Local Stack…") : _("Creating the Kind Cluster…");
      return local ? _("Stopping the Local Stack…") : _("Deleting the Kind Cluster…");
    }
  switch (odd_stack_monitor_get_state (monitor))
    {
    case ODD_STACK_STATE_RUNNING:
      return local ? _("Local Stack Running") : _("Kind Cluster Running");
    case ODD_STACK_STATE_PARTIAL:
      return local ? _("Local Stack Partly Running") : _("Kind Cluster Not Ready");
    case ODD_STACK_STATE_STOPPED:
      return local ? _("Local Stack Stopped") : _("No Kind Cluster");
    case ODD_STACK_STATE_UNKNOWN:
    default:
      return local ? _("Local Stack") : _("Kind Cluster");
    }
}

static void
update_links (OddStackPage *self)
{
  for (guint i = 0; self->links != NULL && i < self->links->len; i++)
    {
      const OddUiLink *link = g_ptr_array_index (self->links, i);
      AdwActionRow *row = g_ptr_array_index (self->link_rows, i);
      g_autofree char *why = NULL;
      g_autofree char *url = odd_ui_link_resolve (link, self->monitor, &why);
      GtkWidget *button = g_object_get_data (G_OBJECT (row), "open-button");

      adw_action_row_set_subtitle (row, url != NULL ? url : why);
      gtk_widget_set_sensitive (button, url != NULL);
    }
}

static void
update (OddStackPage *self)
{
  OddStackMonitor *monitor = self->monitor;
  gboolean busy = odd_stack_monitor_get_busy (monitor);
  OddStackState state = odd_stack_monitor_get_state (monitor);
  gboolean local = odd_stack_monitor_get_kind (monitor) == ODD_STACK_KIND_LOCAL;
  const char *error = odd_stack_monitor_get_error (monitor);
  const char *remediation = odd_stack_monitor_get_remediation (monitor);
  const char *location = odd_stack_monitor_get_location (monitor);
  const char *step = odd_stack_monitor_get_step_message (monitor);

  gtk_label_set_text (self->title_label, title_for (monitor));
  gtk_label_set_text (self->location_label, location != NULL ? location : "");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "start")),
                               !busy && state != ODD_STACK_STATE_RUNNING);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "stop")),
                               !busy && state != ODD_STACK_STATE_STOPPED);
  gtk_widget_set_sensitive (self->kind_box, !busy);
  gtk_widget_set_visible (self->cancel_button, busy);

  /* The progress stays after the operation, so the last step can be read. */
  gtk_widget_set_visible (self->progress_box, busy || (step != NULL && error == NULL));
  gtk_progress_bar_set_fraction (self->progress_bar, odd_stack_monitor_get_fraction (monitor));
  gtk_label_set_text (self->step_label, step != NULL ? step : "");

  gtk_widget_set_visible (self->failure_box, error != NULL);
  gtk_label_set_text (self->error_label, error != NULL ? error : "");
  gtk_label_set_text (self->remediation_label, remediation != NULL ? remediation : "");
  gtk_widget_set_visible (GTK_WIDGET (self->remediation_label), remediation != NULL);

  gtk_widget_set_visible (GTK_WIDGET (self->forwards_group),
                          !local && g_list_model_get_n_items (odd_stack_monitor_get_forwards (monitor)) > 0);
  if (!local && state == ODD_STACK_STATE_STOPPED)
    gtk_label_set_text (self->components_placeholder,
                        _("No cluster yet. Start creates it: building the image and the first rollout take a few minutes."));
  else if (state == ODD_STACK_STATE_UNKNOWN && error == NULL)
    gtk_label_set_text (self->components_placeholder, _("Asking the stack…"));
  else if (state == ODD_STACK_STATE_UNKNOWN)
    gtk_label_set_text (self->components_placeholder, _("No status: see the error above."));
  else
    gtk_label_set_text (self->components_placeholder, _("Nothing runs."));

  update_links (self);
}

static void
append_log (OddStackPage *self,
            const char   *line)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, line, -1);
  gtk_text_buffer_insert (buffer, &end, "\n", 1);
  gtk_text_view_scroll_to_mark (self->log_view, gtk_text_buffer_get_insert (buffer), 0.0, FALSE, 0, 0);
  gtk_text_buffer_place_cursor (buffer, &end);
}

static void
on_progress (OddStackPage *self,
             const char   *step,
             int           status,
             const char   *message,
             double        fraction)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *time = g_date_time_format (now, "%H:%M:%S");
  g_autofree char *line = g_strdup_printf ("%s  %-14s %-7s %s", time, step,
                                           odd_progress_status_to_string (status), message);

  append_log (self, line);
}

static void
on_busy_changed (OddStackPage *self)
{
  /* A new operation: a fresh log, opened so that its steps can be followed. */
  if (odd_stack_monitor_get_busy (self->monitor))
    {
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->log_view), "", 0);
      gtk_expander_set_expanded (self->log_expander, TRUE);
    }
  update (self);
}

static GtkWidget *
create_component_row (gpointer item,
                      gpointer user_data)
{
  return odd_component_row_new (ODD_STACK_ENTRY (item), FALSE);
}

static GtkWidget *
create_forward_row (gpointer item,
                    gpointer user_data)
{
  OddStackPage *self = user_data;

  g_signal_connect_object (item, "notify::health", G_CALLBACK (update_links), self, G_CONNECT_SWAPPED);
  return odd_component_row_new (ODD_STACK_ENTRY (item), TRUE);
}

/* ------------------------------------------------------------------------------------ */
/* Actions */

static void
start_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  odd_stack_monitor_start (ODD_STACK_PAGE (user_data)->monitor);
}

static void
stop_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  odd_stack_monitor_stop (ODD_STACK_PAGE (user_data)->monitor);
}

static void
cancel_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  odd_stack_monitor_cancel (ODD_STACK_PAGE (user_data)->monitor);
}

static void
copy_failure_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  OddStackPage *self = user_data;
  const char *error = odd_stack_monitor_get_error (self->monitor);
  const char *remediation = odd_stack_monitor_get_remediation (self->monitor);
  g_autofree char *text = NULL;

  if (error == NULL)
    return;
  text = remediation != NULL ? g_strdup_printf ("%s\n%s", error, remediation) : g_strdup (error);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
  gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", _("Copied the error"));
}

static void
forward_start_activated (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  odd_stack_monitor_forward_start (ODD_STACK_PAGE (user_data)->monitor, g_variant_get_string (parameter, NULL));
}

static void
forward_stop_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  odd_stack_monitor_forward_stop (ODD_STACK_PAGE (user_data)->monitor, g_variant_get_string (parameter, NULL));
}

#if GTK_CHECK_VERSION (4, 10, 0)
static void
on_uri_launched (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GtkWidget) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!gtk_uri_launcher_launch_finish (GTK_URI_LAUNCHER (source), result, &error) &&
      !g_error_matches (error, GTK_DIALOG_ERROR, GTK_DIALOG_ERROR_DISMISSED))
    gtk_widget_activate_action (self, "win.toast", "s", error->message);
}
#endif

static void
open_link_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  OddStackPage *self = user_data;
  const char *id = g_variant_get_string (parameter, NULL);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  for (guint i = 0; self->links != NULL && i < self->links->len; i++)
    {
      const OddUiLink *link = g_ptr_array_index (self->links, i);
      g_autofree char *url = NULL;

      if (g_strcmp0 (link->id, id) != 0 || (url = odd_ui_link_resolve (link, self->monitor, NULL)) == NULL)
        continue;
#if GTK_CHECK_VERSION (4, 10, 0)
      {
        g_autoptr(GtkUriLauncher) launcher = gtk_uri_launcher_new (url);

        gtk_uri_launcher_launch (launcher, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, NULL,
                                 on_uri_launched, g_object_ref (self));
      }
#else
      gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, url, GDK_CURRENT_TIME);
#endif
    }
}

static const GActionEntry action_entries[] = {
  { "start", start_activated },
  { "stop", stop_activated },
  { "cancel", cancel_activated },
  { "copy-failure", copy_failure_activated },
  { "forward-start", forward_start_activated, "s" },
  { "forward-stop", forward_stop_activated, "s" },
  { "open-link", open_link_activated, "s" },
};

/* ------------------------------------------------------------------------------------ */

static void
build_links (OddStackPage *self)
{
  g_autoptr(GError) error = NULL;

  self->links = odd_ui_links_load (NULL, &error);
  self->link_rows = g_ptr_array_new ();
  if (self->links == NULL)
    {
      adw_preferences_group_set_description (self->links_group, error->message);
      return;
    }
  for (guint i = 0; i < self->links->len; i++)
    {
      const OddUiLink *link = g_ptr_array_index (self->links, i);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_from_icon_name ("odd-external-link-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), link->name);
      gtk_widget_set_tooltip_text (row, link->description);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _("Open in the web browser"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Open in the web browser"), -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "stack.open-link");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", link->id);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
      g_object_set_data (G_OBJECT (row), "open-button", button);
      adw_preferences_group_add (self->links_group, row);
      g_ptr_array_add (self->link_rows, row);
    }
}

static gboolean
build_links_idle (gpointer data)
{
  OddStackPage *self = data;

  self->links_idle = 0;
  build_links (self);
  update_links (self);
  return G_SOURCE_REMOVE;
}

static void
set_monitor (OddStackPage    *self,
             OddStackMonitor *monitor)
{
  g_autoptr(GPropertyAction) kind = NULL;

  g_return_if_fail (self->monitor == NULL);
  self->monitor = g_object_ref (monitor);

  kind = g_property_action_new ("kind", monitor, "kind");
  g_action_map_add_action (G_ACTION_MAP (self->actions), G_ACTION (kind));

  gtk_list_box_bind_model (self->components_list, odd_stack_monitor_get_components (monitor),
                           create_component_row, self, NULL);
  gtk_list_box_bind_model (self->forwards_list, odd_stack_monitor_get_forwards (monitor),
                           create_forward_row, self, NULL);
  g_signal_connect_object (odd_stack_monitor_get_forwards (monitor), "items-changed",
                           G_CALLBACK (update), self, G_CONNECT_SWAPPED);

  g_signal_connect_object (monitor, "notify::busy", G_CALLBACK (on_busy_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (monitor, "notify", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (monitor, "progress", G_CALLBACK (on_progress), self, G_CONNECT_SWAPPED);
  update (self);
}

static void
odd_stack_page_dispose (GObject *object)
{
  OddStackPage *self = ODD_STACK_PAGE (object);

  g_clear_handle_id (&self->links_idle, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), ODD_TYPE_STACK_PAGE);
  g_clear_object (&self->monitor);
  g_clear_object (&self->actions);
  g_clear_pointer (&self->links, g_ptr_array_unref);
  g_clear_pointer (&self->link_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (odd_stack_page_parent_class)->dispose (object);
}

/* The components are probed every refresh only while the page shows them. */
static void
odd_stack_page_map (GtkWidget *widget)
{
  OddStackPage *self = ODD_STACK_PAGE (widget);

  GTK_WIDGET_CLASS (odd_stack_page_parent_class)->map (widget);
  if (self->monitor != NULL)
    odd_stack_monitor_watch (self->monitor);
}

static void
odd_stack_page_unmap (GtkWidget *widget)
{
  OddStackPage *self = ODD_STACK_PAGE (widget);

  if (self->monitor != NULL)
    odd_stack_monitor_unwatch (self->monitor);
  GTK_WIDGET_CLASS (odd_stack_page_parent_class)->unmap (widget);
}

static void
odd_stack_page_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  OddStackPage *self = ODD_STACK_PAGE (object);

  switch (prop_id)
    {
    case PROP_MONITOR:
      g_value_set_object (value, self->monitor);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_stack_page_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  OddStackPage *self = ODD_STACK_PAGE (object);

  switch (prop_id)
    {
    case PROP_MONITOR:
      set_monitor (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_stack_page_class_init (OddStackPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = odd_stack_page_dispose;
  object_class->get_property = odd_stack_page_get_property;
  object_class->set_property = odd_stack_page_set_property;
  widget_class->map = odd_stack_page_map;
  widget_class->unmap = odd_stack_page_unmap;

  properties[PROP_MONITOR] =
    g_param_spec_object ("monitor", NULL, NULL, ODD_TYPE_STACK_MONITOR,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-stack-page.ui");
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, location_label);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, kind_box);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, progress_box);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, step_label);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, failure_box);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, remediation_label);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, components_list);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, forwards_group);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, forwards_list);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, links_group);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, log_expander);
  gtk_widget_class_bind_template_child (widget_class, OddStackPage, log_view);
}

static void
odd_stack_page_init (OddStackPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), action_entries,
                                   G_N_ELEMENTS (action_entries), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "stack", G_ACTION_GROUP (self->actions));

  self->components_placeholder = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->components_placeholder, TRUE);
  gtk_widget_set_margin_top (GTK_WIDGET (self->components_placeholder), 18);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->components_placeholder), 18);
  gtk_widget_set_margin_start (GTK_WIDGET (self->components_placeholder), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->components_placeholder), 12);
  gtk_widget_add_css_class (GTK_WIDGET (self->components_placeholder), "dim-label");
  gtk_list_box_set_placeholder (self->components_list, GTK_WIDGET (self->components_placeholder));

  /* Reading and checking the registry against its contract waits for the first frame. */
  self->links_idle = g_idle_add_full (G_PRIORITY_LOW, build_links_idle, self, NULL);
}

GtkWidget *
odd_stack_page_new (OddStackMonitor *monitor)
{
  g_return_val_if_fail (ODD_IS_STACK_MONITOR (monitor), NULL);

  return g_object_new (ODD_TYPE_STACK_PAGE, "monitor", monitor, NULL);
}

OddStackMonitor *
odd_stack_page_get_monitor (OddStackPage *self)
{
  g_return_val_if_fail (ODD_IS_STACK_PAGE (self), NULL);
  return self->monitor;
}

char *
odd_stack_page_dup_log (OddStackPage *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;

  g_return_val_if_fail (ODD_IS_STACK_PAGE (self), NULL);

  buffer = gtk_text_view_get_buffer (self->log_view);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}
