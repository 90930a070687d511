#define G_LOG_DOMAIN "odd-setup-page"

#include <glib/gi18n.h>

#include "odd-doctor-row.h"
#include "odd-setup-page.h"

struct _OddSetupPage
{
  AdwBin               parent_instance;

  GtkLabel            *summary_label;
  GtkButton           *start_button;
  AdwPreferencesGroup *local_group;
  AdwPreferencesGroup *cluster_group;

  OddStackMonitor     *monitor;
  OddDoctor           *doctor;
  OddDoctorReport     *report;
  char                *error;
  GCancellable        *cancellable;
  GPtrArray           *rows;
  gboolean             checking;
  gboolean             local_ready;
};

G_DEFINE_FINAL_TYPE (OddSetupPage, odd_setup_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_MONITOR,
  PROP_CHECKING,
  PROP_LOCAL_READY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The checks of the kind cluster; every other check concerns the local stack. */
static const char * const cluster_checks[] = {
  "docker-cli", "docker-daemon", "docker-socket", "kubectl", "kind", "kind-cluster", NULL,
};

static void
update_summary (OddSetupPage *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  OddStackState state = self->monitor != NULL ? odd_stack_monitor_get_state (self->monitor)
                                              : ODD_STACK_STATE_UNKNOWN;
  gboolean busy = self->monitor != NULL && odd_stack_monitor_get_busy (self->monitor);
  gboolean running = state == ODD_STACK_STATE_RUNNING;

  if (self->error != NULL)
    g_string_printf (text, _("The checks could not run: %s"), self->error);
  else if (self->report == NULL)
    g_string_assign (text, _("Checking this computer…"));
  else
    {
      guint ok = odd_doctor_report_count (self->report, ODD_DOCTOR_OK);
      guint warn = odd_doctor_report_count (self->report, ODD_DOCTOR_WARN);
      guint fail = odd_doctor_report_count (self->report, ODD_DOCTOR_FAIL);

      g_string_append_printf (text, "%s: ", odd_doctor_report_get_os_name (self->report));
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u check passed", "%u checks passed", ok), ok);
      if (warn > 0)
        g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, ", %u warning", ", %u warnings", warn), warn);
      if (fail > 0)
        g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, ", %u needs a fix", ", %u need a fix", fail), fail);
      g_string_append (text, ". ");
      if (running)
        g_string_append (text, _("The local stack is running."));
      else if (busy)
        g_string_append (text, _("The stack is starting: see the Stack page."));
      else if (self->local_ready)
        g_string_append (text, _("Everything the local stack needs is here."));
      else
        g_string_append (text, _("Fix the checks marked in red (Run in Terminal types the command for you), then check again."));
    }

  gtk_label_set_text (self->summary_label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->start_button),
                          self->local_ready && !running && !busy && !self->checking);
}

static void
clear_rows (OddSetupPage *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (self->rows, i);

      adw_preferences_group_remove (g_strv_contains (cluster_checks, odd_doctor_row_get_check_id (ODD_DOCTOR_ROW (row)))
                                    ? self->cluster_group : self->local_group, row);
    }
  g_ptr_array_set_size (self->rows, 0);
}

static gboolean
compute_local_ready (OddDoctorReport *report)
{
  GPtrArray *checks = odd_doctor_report_get_checks (report);

  for (guint i = 0; i < checks->len; i++)
    {
      const OddDoctorCheck *check = g_ptr_array_index (checks, i);

      if (!g_strv_contains (cluster_checks, check->id) && check->status == ODD_DOCTOR_FAIL)
        return FALSE;
    }
  return checks->len > 0;
}

void
odd_setup_page_set_report (OddSetupPage    *self,
                           OddDoctorReport *report)
{
  GPtrArray *checks;
  gboolean local_ready;

  g_return_if_fail (ODD_IS_SETUP_PAGE (self));
  g_return_if_fail (report != NULL);

  clear_rows (self);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->report, odd_doctor_report_unref);
  self->report = odd_doctor_report_ref (report);

  checks = odd_doctor_report_get_checks (report);
  for (guint i = 0; i < checks->len; i++)
    {
      const OddDoctorCheck *check = g_ptr_array_index (checks, i);
      GtkWidget *row = odd_doctor_row_new (check);

      adw_preferences_group_add (g_strv_contains (cluster_checks, check->id)
                                 ? self->cluster_group : self->local_group, row);
      g_ptr_array_add (self->rows, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->local_group), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->cluster_group), TRUE);

  local_ready = compute_local_ready (report);
  if (local_ready != self->local_ready)
    {
      self->local_ready = local_ready;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCAL_READY]);
    }
  update_summary (self);
}

static void
set_checking (OddSetupPage *self,
              gboolean      checking)
{
  if (self->checking == checking)
    return;
  self->checking = checking;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHECKING]);
  update_summary (self);
}

static void
on_doctor_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(OddSetupPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(OddDoctorReport) report = odd_doctor_run_finish (ODD_DOCTOR (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (report != NULL)
    odd_setup_page_set_report (self, report);
  else
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
    }
  set_checking (self, FALSE);
}

void
odd_setup_page_check (OddSetupPage *self)
{
  g_return_if_fail (ODD_IS_SETUP_PAGE (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_checking (self, TRUE);
  odd_doctor_run_async (self->doctor, self->cancellable, on_doctor_done, g_object_ref (self));
}

static void
check_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  odd_setup_page_check (ODD_SETUP_PAGE (widget));
}

static void
on_monitor_changed (OddSetupPage *self)
{
  update_summary (self);
}

static void
set_monitor (OddSetupPage    *self,
             OddStackMonitor *monitor)
{
  gboolean mapped = gtk_widget_get_mapped (GTK_WIDGET (self));

  if (self->monitor == monitor)
    return;
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->monitor, on_monitor_changed, self);
      if (mapped)
        odd_stack_monitor_unwatch (self->monitor);
    }
  g_set_object (&self->monitor, monitor);
  if (monitor == NULL)
    return;
  if (mapped)
    odd_stack_monitor_watch (monitor);
  g_signal_connect_object (monitor, "notify::state", G_CALLBACK (on_monitor_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (monitor, "notify::busy", G_CALLBACK (on_monitor_changed), self, G_CONNECT_SWAPPED);
  update_summary (self);
}

/* The summary tells whether the stack runs: the status comes every refresh while it shows. */
static void
odd_setup_page_map (GtkWidget *widget)
{
  OddSetupPage *self = ODD_SETUP_PAGE (widget);

  GTK_WIDGET_CLASS (odd_setup_page_parent_class)->map (widget);
  if (self->monitor != NULL)
    odd_stack_monitor_watch (self->monitor);
}

static void
odd_setup_page_unmap (GtkWidget *widget)
{
  OddSetupPage *self = ODD_SETUP_PAGE (widget);

  if (self->monitor != NULL)
    odd_stack_monitor_unwatch (self->monitor);
  GTK_WIDGET_CLASS (odd_setup_page_parent_class)->unmap (widget);
}

static void
odd_setup_page_dispose (GObject *object)
{
  OddSetupPage *self = ODD_SETUP_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), ODD_TYPE_SETUP_PAGE);

  G_OBJECT_CLASS (odd_setup_page_parent_class)->dispose (object);
}

static void
odd_setup_page_finalize (GObject *object)
{
  OddSetupPage *self = ODD_SETUP_PAGE (object);

  g_clear_object (&self->monitor);
  g_clear_object (&self->doctor);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->report, odd_doctor_report_unref);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_free (self->error);

  G_OBJECT_CLASS (odd_setup_page_parent_class)->finalize (object);
}

static void
odd_setup_page_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  OddSetupPage *self = ODD_SETUP_PAGE (object);

  switch (prop_id)
    {
    case PROP_MONITOR:
      g_value_set_object (value, self->monitor);
      break;
    case PROP_CHECKING:
      g_value_set_boolean (value, self->checking);
      break;
    case PROP_LOCAL_READY:
      g_value_set_boolean (value, self->local_ready);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_setup_page_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  OddSetupPage *self = ODD_SETUP_PAGE (object);

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
odd_setup_page_class_init (OddSetupPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = odd_setup_page_dispose;
  object_class->finalize = odd_setup_page_finalize;
  object_class->get_property = odd_setup_page_get_property;
  object_class->set_property = odd_setup_page_set_property;
  widget_class->map = odd_setup_page_map;
  widget_class->unmap = odd_setup_page_unmap;

  properties[PROP_MONITOR] =
    g_param_spec_object ("monitor", NULL, NULL, ODD_TYPE_STACK_MONITOR,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CHECKING] =
    g_param_spec_boolean ("checking", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOCAL_READY] =
    g_param_spec_boolean ("local-ready", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-setup-page.ui");
  gtk_widget_class_bind_template_child (widget_class, OddSetupPage, summary_label);
  gtk_widget_class_bind_template_child (widget_class, OddSetupPage, start_button);
  gtk_widget_class_bind_template_child (widget_class, OddSetupPage, local_group);
  gtk_widget_class_bind_template_child (widget_class, OddSetupPage, cluster_group);

  gtk_widget_class_install_action (widget_class, "setup.check", NULL, check_action);
}

static void
odd_setup_page_init (OddSetupPage *self)
{
  self->rows = g_ptr_array_new ();
  self->doctor = odd_doctor_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  update_summary (self);
}

GtkWidget *
odd_setup_page_new (OddStackMonitor *monitor)
{
  return g_object_new (ODD_TYPE_SETUP_PAGE, "monitor", monitor, NULL);
}

OddDoctor *
odd_setup_page_get_doctor (OddSetupPage *self)
{
  g_return_val_if_fail (ODD_IS_SETUP_PAGE (self), NULL);
  return self->doctor;
}

OddDoctorReport *
odd_setup_page_get_report (OddSetupPage *self)
{
  g_return_val_if_fail (ODD_IS_SETUP_PAGE (self), NULL);
  return self->report;
}

gboolean
odd_setup_page_get_checking (OddSetupPage *self)
{
  g_return_val_if_fail (ODD_IS_SETUP_PAGE (self), FALSE);
  return self->checking;
}

gboolean
odd_setup_page_get_local_ready (OddSetupPage *self)
{
  g_return_val_if_fail (ODD_IS_SETUP_PAGE (self), FALSE);
  return self->local_ready;
}

GPtrArray *
odd_setup_page_get_rows (OddSetupPage *self)
{
  g_return_val_if_fail (ODD_IS_SETUP_PAGE (self), NULL);
  return self->rows;
}
