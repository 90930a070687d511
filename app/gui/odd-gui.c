#define G_LOG_DOMAIN "odd-gui"

#include "odd-gui.h"
#include "odd-resources.h"

void
odd_gui_register_resources (void)
{
  static gsize registered = 0;

  /* By hand: a static library would drop an unreferenced constructor. */
  if (g_once_init_enter (&registered))
    {
      odd_register_resource ();
      g_once_init_leave (&registered, 1);
    }
}

void
odd_gui_init (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      odd_gui_register_resources ();
      adw_init ();
      gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (gdk_display_get_default ()),
                                        ODD_RESOURCE_PREFIX "/icons");
      {
        /* Not style.css, which AdwApplication would load a second time. */
        g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

        gtk_css_provider_load_from_resource (css, ODD_RESOURCE_PREFIX "/odd-style.css");
        gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                    GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
      }
      g_once_init_leave (&initialised, 1);
    }
}
