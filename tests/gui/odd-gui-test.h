/* odd-gui-test.h: what the gui tests share: GTK set-up, waiting on the main loop, windows of
 * a fixed size, and screenshots rendered in-process and compared with reference PNGs */
#pragma once

#include <adwaita.h>
#include <vte/vte.h>

G_BEGIN_DECLS

/* gtk_test_init() and the app's resources; a fixed, light style to start from. */
void        odd_gui_test_init             (int        *argc,
                                           char     ***argv);

/* Iterates the main context until @done(@data) or @seconds pass; FALSE on timeout. */
gboolean    odd_gui_test_wait             (gboolean  (*done) (gpointer data),
                                           gpointer    data,
                                           guint       seconds);
/* Iterates the main context for @ms milliseconds (lets idle work and animations settle). */
void        odd_gui_test_spin             (guint       ms);

/* Asserts @expr within @seconds, iterating the main context meanwhile. */
#define ODD_GUI_ASSERT_WITHIN(expr, seconds) \
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

/* An AdwWindow of @width × @height showing @child, presented and allocated. */
GtkWindow  *odd_gui_test_window           (GtkWidget  *child,
                                           int         width,
                                           int         height);
/* Presents @window at @width × @height and waits until it is allocated and drawn. */
void        odd_gui_test_present          (GtkWindow  *window,
                                           int         width,
                                           int         height);
/* Renders @window (in-process, its own renderer) to a texture. */
GdkTexture *odd_gui_test_render           (GtkWindow  *window);
/* Renders @window to $ODD_BUILD_DIR/tests/gui/screenshots/@name.png and compares it with
 * tests/gui/reference/@name.png: fails when more than 1 % of the pixels differ by more than
 * 48 in a channel. ODD_UPDATE_SCREENSHOTS=1 writes the reference instead (deliberately). */
void        odd_gui_test_check_screenshot (GtkWindow  *window,
                                           const char *name);
/* Where this run's screenshots go (created). */
char       *odd_gui_test_screenshot_dir   (void);
/* Renders @window to the screenshot directory as @name.png, for a person to look at (live
 * data: nothing to compare with). */
void        odd_gui_test_save_screenshot  (GtkWindow  *window,
                                           const char *name);

/* What @terminal shows on its screen now (the alternate screen of a full-screen program too). */
char       *odd_gui_test_terminal_text    (VteTerminal *terminal);

/* @pid is gone, or a zombie whose parent has yet to reap it. */
gboolean    odd_gui_test_process_ended    (GPid        pid);

/* Light or dark, as the system would ask. */
void        odd_gui_test_set_dark         (gboolean    dark);
/* The first button below @widget (depth first) whose action is @action, or NULL. */
GtkWidget  *odd_gui_test_find_button      (GtkWidget  *widget,
                                           const char *action);

G_END_DECLS
