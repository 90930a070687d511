/* odd-window.h: the main window: Setup, Stack and Terminal pages in a view stack */
#pragma once

#include <adwaita.h>

#include "odd-application.h"
#include "odd-setup-page.h"
#include "odd-stack-page.h"
#include "odd-terminal-page.h"

G_BEGIN_DECLS

#define ODD_TYPE_WINDOW (odd_window_get_type ())
G_DECLARE_FINAL_TYPE (OddWindow, odd_window, ODD, WINDOW, AdwApplicationWindow)

OddWindow       *odd_window_new               (OddApplication *application);

/* "setup", "stack", "terminal" */
void             odd_window_show_page         (OddWindow      *self,
                                               const char     *name);
const char      *odd_window_get_page_name     (OddWindow      *self);
OddSetupPage    *odd_window_get_setup_page    (OddWindow      *self);
OddStackPage    *odd_window_get_stack_page    (OddWindow      *self);
OddTerminalPage *odd_window_get_terminal_page (OddWindow      *self);
void             odd_window_add_toast         (OddWindow      *self,
                                               const char     *message);

G_END_DECLS
