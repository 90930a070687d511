/* odd-page-test.h: what the page tests share (a window, waiting, screenshots, light/dark) */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Asserts @expr within @seconds, iterating the main context meanwhile. */
#define ODD_PAGE_ASSERT_WITHIN(expr, seconds) \
  G_STMT_START { \
    gint64 odd_deadline_ = g_get_monotonic_time () + (gint64) (seconds) * G_USEC_PER_SEC; \
    while (!(expr)) \
      { \
        if (g_get_monotonic_time () > odd_deadline_) \
          g_error ("%s:%d: not within %d s: %s", __FILE__, __LINE__, (int) (seconds), #expr); \
        g_main_context_iteration (NULL, FALSE); \
        g_usleep (2000); \
      } \
  } G_STMT_END

/* g_test_init() and libadwaita, light style. */
void       odd_page_test_init        (int        *argc,
                                      char     ***argv);
/* Iterates the main context for @ms milliseconds. */
void       odd_page_test_spin        (guint       ms);
/* An AdwWindow of @width × @height showing @child, presented and allocated. */
GtkWindow *odd_page_test_window      (GtkWidget  *child,
                                      int         width,
                                      int         height);
/* Renders @window in-process to $ODD_BUILD_DIR/tests/gui/screenshots/@name.png. */
void       odd_page_test_screenshot  (GtkWindow  *window,
                                      const char *name);
void       odd_page_test_set_dark    (gboolean    dark);

G_END_DECLS
