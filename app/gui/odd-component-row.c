#define G_LOG_DOMAIN "odd-component-row"

#include <glib/gi18n.h>

#include "odd-component-row.h"

struct _OddComponentRow
{
  AdwActionRow   parent_instance;

  GtkImage      *health_icon;
  GtkLabel      *port_label;
  GtkButton     *forward_button;

  OddStackEntry *entry;
  gboolean       forward;
};

G_DEFINE_FINAL_TYPE (OddComponentRow, odd_component_row, ADW_TYPE_ACTION_ROW)

static void
update (OddComponentRow *self)
{
  OddStackEntryHealth health = odd_stack_entry_get_health (self->entry);
  const char *detail = odd_stack_entry_get_detail (self->entry);
  const char *state;
  const char *icon;
  const char *style;
  g_autofree char *subtitle = NULL;
  g_autofree char *port = NULL;

  switch (health)
    {
    case ODD_STACK_ENTRY_HEALTHY:
      state = self->forward ? _("Forwarded") : _("Healthy");
      icon = "emblem-ok-symbolic";
      style = "success";
      break;
    case ODD_STACK_ENTRY_STANDBY:
      /* Translators: a replica that waits while another one of its service works */
      state = _("Standing by");
      icon = "media-playback-pause-symbolic";
      style = "dim-label";
      break;
    case ODD_STACK_ENTRY_UNHEALTHY:
      state = _("Not ready");
      icon = "dialog-warning-symbolic";
      style = "warning";
      break;
    case ODD_STACK_ENTRY_STOPPED:
    default:
      state = self->forward ? _("Not forwarded") : _("Stopped");
      icon = "media-playback-stop-symbolic";
      style = "dim-label";
      break;
    }

  subtitle = detail != NULL ? g_strdup_printf ("%s · %s", state, detail) : g_strdup (state);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);
  gtk_image_set_from_icon_name (self->health_icon, icon);
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_icon), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_icon), "warning");
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_icon), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (self->health_icon), style);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->health_icon), state);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->health_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, state, -1);

  if (odd_stack_entry_get_port (self->entry) != 0)
    port = g_strdup_printf (_("port %u"), odd_stack_entry_get_port (self->entry));
  gtk_label_set_text (self->port_label, port != NULL ? port : "");
  gtk_widget_set_visible (GTK_WIDGET (self->port_label), port != NULL);

  if (self->forward)
    {
      gboolean on = health == ODD_STACK_ENTRY_HEALTHY;

      gtk_button_set_label (self->forward_button, on ? _("Stop") : _("Forward"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->forward_button),
                                      on ? "stack.forward-stop" : "stack.forward-start");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (self->forward_button), "s",
                                        odd_stack_entry_get_name (self->entry));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->forward_button),
                                   on ? _("Stop this port-forward") : _("Forward this UI to a local port"));
      gtk_widget_set_visible (GTK_WIDGET (self->forward_button), TRUE);
    }
}

static void
odd_component_row_dispose (GObject *object)
{
  OddComponentRow *self = ODD_COMPONENT_ROW (object);

  if (self->entry != NULL)
    g_signal_handlers_disconnect_by_data (self->entry, self);
  g_clear_object (&self->entry);

  G_OBJECT_CLASS (odd_component_row_parent_class)->dispose (object);
}

static void
odd_component_row_class_init (OddComponentRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = odd_component_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-component-row.ui");
  gtk_widget_class_bind_template_child (widget_class, OddComponentRow, health_icon);
  gtk_widget_class_bind_template_child (widget_class, OddComponentRow, port_label);
  gtk_widget_class_bind_template_child (widget_class, OddComponentRow, forward_button);
}

static void
odd_component_row_init (OddComponentRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
odd_component_row_new (OddStackEntry *entry,
                       gboolean       forward)
{
  OddComponentRow *self;

  g_return_val_if_fail (ODD_IS_STACK_ENTRY (entry), NULL);

  self = g_object_new (ODD_TYPE_COMPONENT_ROW, "title", odd_stack_entry_get_name (entry), NULL);
  self->entry = g_object_ref (entry);
  self->forward = forward;
  g_signal_connect_object (entry, "notify", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  update (self);
  return GTK_WIDGET (self);
}

OddStackEntry *
odd_component_row_get_entry (OddComponentRow *self)
{
  g_return_val_if_fail (ODD_IS_COMPONENT_ROW (self), NULL);
  return self->entry;
}
