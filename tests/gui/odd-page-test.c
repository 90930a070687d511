/* odd-page-test.c: what the page tests share */
#include "odd-page-test.h"

void
odd_page_test_init (int    *argc,
                    char ***argv)
{
  g_test_init (argc, argv, NULL);
  adw_init ();
  odd_page_test_set_dark (FALSE);
}

void
odd_page_test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

GtkWindow *
odd_page_test_window (GtkWidget *child,
                      int        width,
                      int        height)
{
  GtkWindow *window = GTK_WINDOW (adw_window_new ());

  adw_window_set_content (ADW_WINDOW (window), child);
  gtk_window_set_default_size (window, width, height);
  gtk_window_present (window);
  ODD_PAGE_ASSERT_WITHIN (gtk_widget_get_mapped (child) && gtk_widget_get_width (child) > 0, 10);
  return window;
}

void
odd_page_test_screenshot (GtkWindow  *window,
                          const char *name)
{
  g_autofree char *dir = g_build_filename (g_getenv ("ODD_BUILD_DIR") ? g_getenv ("ODD_BUILD_DIR") : ".",
                                           "tests", "gui", "screenshots", NULL);
  g_autofree char *path = g_strconcat (dir, G_DIR_SEPARATOR_S, name, ".png", NULL);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int w = gtk_widget_get_width (GTK_WIDGET (window)), h = gtk_widget_get_height (GTK_WIDGET (window));

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

void
odd_page_test_set_dark (gboolean dark)
{
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      dark ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_FORCE_LIGHT);
}
