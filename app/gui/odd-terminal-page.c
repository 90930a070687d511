#define G_LOG_DOMAIN "odd-terminal-page"

#include <glib/gi18n.h>

#include "odd-terminal-page.h"

struct _OddTerminalPage
{
  AdwBin           parent_instance;

  GtkStack        *stack;
  AdwTabView      *tab_view;

  OddStackMonitor *monitor;
  double           font_scale;
};

G_DEFINE_FINAL_TYPE (OddTerminalPage, odd_terminal_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_MONITOR,
  PROP_FONT_SCALE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update_empty (OddTerminalPage *self)
{
  gtk_stack_set_visible_child_name (self->stack, adw_tab_view_get_n_pages (self->tab_view) > 0
                                                 ? "tabs" : "empty");
}

static void
on_tab_exited (OddTerminalTab *tab,
               GParamSpec     *pspec,
               AdwTabPage     *page)
{
  adw_tab_page_set_needs_attention (page, odd_terminal_tab_get_exited (tab));
}

OddTerminalTab *
odd_terminal_page_add_tab (OddTerminalPage    *self,
                           OddTerminalKind     kind,
                           const char * const *argv)
{
  OddTerminalTab *tab;
  AdwTabPage *page;

  g_return_val_if_fail (ODD_IS_TERMINAL_PAGE (self), NULL);

  tab = ODD_TERMINAL_TAB (odd_terminal_tab_new (kind, self->monitor, argv));
  g_object_bind_property (self, "font-scale", odd_terminal_tab_get_terminal (tab), "font-scale",
                          G_BINDING_SYNC_CREATE);
  page = adw_tab_view_append (self->tab_view, GTK_WIDGET (tab));
  g_object_bind_property (tab, "title", page, "title", G_BINDING_SYNC_CREATE);
  adw_tab_page_set_icon (page, g_themed_icon_new (kind == ODD_TERMINAL_DASHBOARD
                                                  ? ODD_APP_ID "-symbolic"
                                                  : "utilities-terminal-symbolic"));
  g_object_unref (adw_tab_page_get_icon (page));
  g_signal_connect_object (tab, "notify::exited", G_CALLBACK (on_tab_exited), page, 0);
  g_object_set_data (G_OBJECT (tab), "odd-kind", GINT_TO_POINTER (kind));
  adw_tab_view_set_selected_page (self->tab_view, page);
  update_empty (self);
  gtk_widget_grab_focus (GTK_WIDGET (odd_terminal_tab_get_terminal (tab)));
  return tab;
}

OddTerminalTab *
odd_terminal_page_show_dashboard (OddTerminalPage *self)
{
  g_return_val_if_fail (ODD_IS_TERMINAL_PAGE (self), NULL);

  for (int i = 0; i < adw_tab_view_get_n_pages (self->tab_view); i++)
    {
      AdwTabPage *page = adw_tab_view_get_nth_page (self->tab_view, i);
      GtkWidget *child = adw_tab_page_get_child (page);

      if (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (child), "odd-kind")) == ODD_TERMINAL_DASHBOARD)
        {
          adw_tab_view_set_selected_page (self->tab_view, page);
          return ODD_TERMINAL_TAB (child);
        }
    }
  return odd_terminal_page_add_tab (self, ODD_TERMINAL_DASHBOARD, NULL);
}

OddTerminalTab *
odd_terminal_page_run_command (OddTerminalPage *self,
                               const char      *command)
{
  OddTerminalTab *tab;

  g_return_val_if_fail (ODD_IS_TERMINAL_PAGE (self), NULL);
  g_return_val_if_fail (command != NULL, NULL);

  tab = odd_terminal_page_add_tab (self, ODD_TERMINAL_SHELL, NULL);
  odd_terminal_tab_type (tab, command);
  return tab;
}

OddTerminalTab *
odd_terminal_page_get_current (OddTerminalPage *self)
{
  AdwTabPage *page;

  g_return_val_if_fail (ODD_IS_TERMINAL_PAGE (self), NULL);

  page = adw_tab_view_get_selected_page (self->tab_view);
  return page != NULL ? ODD_TERMINAL_TAB (adw_tab_page_get_child (page)) : NULL;
}

guint
odd_terminal_page_get_n_tabs (OddTerminalPage *self)
{
  g_return_val_if_fail (ODD_IS_TERMINAL_PAGE (self), 0);
  return (guint) adw_tab_view_get_n_pages (self->tab_view);
}

void
odd_terminal_page_copy (OddTerminalPage *self)
{
  OddTerminalTab *tab = odd_terminal_page_get_current (self);

  if (tab != NULL)
    vte_terminal_copy_clipboard_format (odd_terminal_tab_get_terminal (tab), VTE_FORMAT_TEXT);
}

void
odd_terminal_page_paste (OddTerminalPage *self)
{
  OddTerminalTab *tab = odd_terminal_page_get_current (self);

  if (tab != NULL)
    vte_terminal_paste_clipboard (odd_terminal_tab_get_terminal (tab));
}

void
odd_terminal_page_terminate_all (OddTerminalPage *self)
{
  g_return_if_fail (ODD_IS_TERMINAL_PAGE (self));

  for (int i = 0; i < adw_tab_view_get_n_pages (self->tab_view); i++)
    odd_terminal_tab_terminate (ODD_TERMINAL_TAB (adw_tab_page_get_child (adw_tab_view_get_nth_page (self->tab_view, i))));
}

static void
on_n_pages (OddTerminalPage *self)
{
  update_empty (self);
}

static void
odd_terminal_page_dispose (GObject *object)
{
  OddTerminalPage *self = ODD_TERMINAL_PAGE (object);

  if (self->tab_view != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->tab_view, self);
      odd_terminal_page_terminate_all (self);
    }
  /* The bin's child is a template child: let the bin drop it before the template does. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), ODD_TYPE_TERMINAL_PAGE);
  self->tab_view = NULL;
  g_clear_object (&self->monitor);

  G_OBJECT_CLASS (odd_terminal_page_parent_class)->dispose (object);
}

static void
odd_terminal_page_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  OddTerminalPage *self = ODD_TERMINAL_PAGE (object);

  switch (prop_id)
    {
    case PROP_MONITOR:
      g_value_set_object (value, self->monitor);
      break;
    case PROP_FONT_SCALE:
      g_value_set_double (value, self->font_scale);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_terminal_page_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  OddTerminalPage *self = ODD_TERMINAL_PAGE (object);

  switch (prop_id)
    {
    case PROP_MONITOR:
      self->monitor = g_value_dup_object (value);
      break;
    case PROP_FONT_SCALE:
      if (self->font_scale != g_value_get_double (value))
        {
          self->font_scale = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_terminal_page_class_init (OddTerminalPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = odd_terminal_page_dispose;
  object_class->get_property = odd_terminal_page_get_property;
  object_class->set_property = odd_terminal_page_set_property;

  properties[PROP_MONITOR] =
    g_param_spec_object ("monitor", NULL, NULL, ODD_TYPE_STACK_MONITOR,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* The terminals' zoom (VteTerminal:font-scale) */
  properties[PROP_FONT_SCALE] =
    g_param_spec_double ("font-scale", NULL, NULL, 0.25, 4.0, 1.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-terminal-page.ui");
  gtk_widget_class_bind_template_child (widget_class, OddTerminalPage, stack);
  gtk_widget_class_bind_template_child (widget_class, OddTerminalPage, tab_view);
}

static void
odd_terminal_page_init (OddTerminalPage *self)
{
  self->font_scale = 1.0;
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->tab_view, "notify::n-pages", G_CALLBACK (on_n_pages), self);
  update_empty (self);
}

GtkWidget *
odd_terminal_page_new (OddStackMonitor *monitor)
{
  return g_object_new (ODD_TYPE_TERMINAL_PAGE, "monitor", monitor, NULL);
}
