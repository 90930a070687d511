/* odd-terminal-page.h: the Terminal page: tabs (AdwTabView) of OddTerminalTab, the first
 * running odd-dashboard against the current stack, more for a shell */
#pragma once

#include <adwaita.h>

#include "odd-stack-monitor.h"
#include "odd-terminal-tab.h"

G_BEGIN_DECLS

#define ODD_TYPE_TERMINAL_PAGE (odd_terminal_page_get_type ())
G_DECLARE_FINAL_TYPE (OddTerminalPage, odd_terminal_page, ODD, TERMINAL_PAGE, AdwBin)

GtkWidget      *odd_terminal_page_new              (OddStackMonitor    *monitor);

/* Adds a tab and selects it. */
OddTerminalTab *odd_terminal_page_add_tab          (OddTerminalPage    *self,
                                                    OddTerminalKind     kind,
                                                    const char * const *argv);
/* Selects the dashboard's tab, opening one when there is none. */
OddTerminalTab *odd_terminal_page_show_dashboard   (OddTerminalPage    *self);
/* Opens a shell tab with @command typed (the user presses Enter). */
OddTerminalTab *odd_terminal_page_run_command      (OddTerminalPage    *self,
                                                    const char         *command);
OddTerminalTab *odd_terminal_page_get_current      (OddTerminalPage    *self);
guint           odd_terminal_page_get_n_tabs       (OddTerminalPage    *self);
void            odd_terminal_page_copy             (OddTerminalPage    *self);
void            odd_terminal_page_paste            (OddTerminalPage    *self);
/* Ends what every tab runs (the window is closing). */
void            odd_terminal_page_terminate_all    (OddTerminalPage    *self);

G_END_DECLS
