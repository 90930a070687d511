#define G_LOG_DOMAIN "odd-doctor-row"

#include <glib/gi18n.h>

#include "odd-doctor-row.h"

struct _OddDoctorRow
{
  AdwActionRow     parent_instance;

  GtkImage        *status_icon;
  GtkButton       *copy_button;
  GtkButton       *run_button;

  char            *check_id;
  OddDoctorStatus  status;
  char            *fix;
};

G_DEFINE_FINAL_TYPE (OddDoctorRow, odd_doctor_row, ADW_TYPE_ACTION_ROW)

gboolean
odd_doctor_fix_needs_terminal (const char *command)
{
  static const char * const words[] = { "sudo", "su", "newgrp", "passwd", "doas", "pkexec", NULL };
  g_auto(GStrv) tokens = NULL;

  if (command == NULL)
    return FALSE;
  tokens = g_regex_split_simple ("[\\s;&|()]+", command, 0, 0);
  for (guint i = 0; tokens[i] != NULL; i++)
    if (g_strv_contains (words, tokens[i]))
      return TRUE;
  return FALSE;
}

static void
copy_fix (GtkWidget  *widget,
          const char *action_name,
          GVariant   *parameter)
{
  OddDoctorRow *self = ODD_DOCTOR_ROW (widget);

  if (self->fix == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->fix);
  gtk_widget_activate_action (widget, "win.toast", "s", _("Copied the command"));
}

static void
run_in_terminal (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  OddDoctorRow *self = ODD_DOCTOR_ROW (widget);

  if (self->fix != NULL)
    gtk_widget_activate_action (widget, "win.run-in-terminal", "s", self->fix);
}

static void
odd_doctor_row_finalize (GObject *object)
{
  OddDoctorRow *self = ODD_DOCTOR_ROW (object);

  g_free (self->check_id);
  g_free (self->fix);

  G_OBJECT_CLASS (odd_doctor_row_parent_class)->finalize (object);
}

static void
odd_doctor_row_class_init (OddDoctorRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = odd_doctor_row_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-doctor-row.ui");
  gtk_widget_class_bind_template_child (widget_class, OddDoctorRow, status_icon);
  gtk_widget_class_bind_template_child (widget_class, OddDoctorRow, copy_button);
  gtk_widget_class_bind_template_child (widget_class, OddDoctorRow, run_button);

  gtk_widget_class_install_action (widget_class, "row.copy-fix", NULL, copy_fix);
  gtk_widget_class_install_action (widget_class, "row.run-in-terminal", NULL, run_in_terminal);
}

static void
odd_doctor_row_init (OddDoctorRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static void
set_check (OddDoctorRow         *self,
           const OddDoctorCheck *check)
{
  static const struct
  {
    const char *icon;
    const char *style;
    const char *label;
  } looks[] = {
    [ODD_DOCTOR_OK]   = { "emblem-ok-symbolic", "success", N_("Passed") },
    [ODD_DOCTOR_WARN] = { "dialog-warning-symbolic", "warning", N_("Warning") },
    [ODD_DOCTOR_FAIL] = { "dialog-error-symbolic", "error", N_("Needs a fix") },
  };
  g_autofree char *reason = g_markup_escape_text (check->reason != NULL ? check->reason : "", -1);
  g_autofree char *subtitle = NULL;

  self->check_id = g_strdup (check->id);
  self->status = check->status;
  self->fix = g_strdup (check->fix);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), check->name);
  if (check->fix != NULL)
    {
      g_autofree char *fix = g_markup_escape_text (check->fix, -1);

      subtitle = g_strdup_printf ("%s\n<tt>%s</tt>", reason, fix);
    }
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle != NULL ? subtitle : reason);

  gtk_image_set_from_icon_name (self->status_icon, looks[check->status].icon);
  gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), looks[check->status].style);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_icon), _(looks[check->status].label));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->status_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _(looks[check->status].label), -1);

  gtk_widget_set_visible (GTK_WIDGET (self->copy_button), check->fix != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->run_button), odd_doctor_fix_needs_terminal (check->fix));
}

GtkWidget *
odd_doctor_row_new (const OddDoctorCheck *check)
{
  OddDoctorRow *self;

  g_return_val_if_fail (check != NULL, NULL);

  self = g_object_new (ODD_TYPE_DOCTOR_ROW, NULL);
  set_check (self, check);
  return GTK_WIDGET (self);
}

OddDoctorStatus
odd_doctor_row_get_status (OddDoctorRow *self)
{
  g_return_val_if_fail (ODD_IS_DOCTOR_ROW (self), ODD_DOCTOR_FAIL);
  return self->status;
}

const char *
odd_doctor_row_get_check_id (OddDoctorRow *self)
{
  g_return_val_if_fail (ODD_IS_DOCTOR_ROW (self), NULL);
  return self->check_id;
}

const char *
odd_doctor_row_get_fix (OddDoctorRow *self)
{
  g_return_val_if_fail (ODD_IS_DOCTOR_ROW (self), NULL);
  return self->fix;
}

gboolean
odd_doctor_row_get_needs_terminal (OddDoctorRow *self)
{
  g_return_val_if_fail (ODD_IS_DOCTOR_ROW (self), FALSE);
  return gtk_widget_get_visible (GTK_WIDGET (self->run_button));
}
