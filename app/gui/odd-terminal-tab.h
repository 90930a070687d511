/* odd-terminal-tab.h: one terminal tab: a VteTerminal running odd-dashboard (against the
 * stack's endpoints) or a shell, with a Restart bar when its program exits */
#pragma once

#include <adwaita.h>
#include <vte/vte.h>

#include "odd-stack-monitor.h"

G_BEGIN_DECLS

typedef enum
{
  ODD_TERMINAL_DASHBOARD,  /* odd-dashboard with READ_MODEL_URL and GATEWAY_URL */
  ODD_TERMINAL_SHELL,      /* $SHELL, else /bin/sh */
  ODD_TERMINAL_COMMAND,    /* an argv given by the caller (tests) */
} OddTerminalKind;

#define ODD_TYPE_TERMINAL_TAB (odd_terminal_tab_get_type ())
G_DECLARE_FINAL_TYPE (OddTerminalTab, odd_terminal_tab, ODD, TERMINAL_TAB, GtkBox)

/* @monitor (nullable): where a dashboard finds the stack. @argv: for ODD_TERMINAL_COMMAND. */
GtkWidget       *odd_terminal_tab_new         (OddTerminalKind     kind,
                                               OddStackMonitor    *monitor,
                                               const char * const *argv);
VteTerminal     *odd_terminal_tab_get_terminal (OddTerminalTab    *self);
const char      *odd_terminal_tab_get_title   (OddTerminalTab     *self);
/* The child's pid, 0 when nothing runs */
GPid             odd_terminal_tab_get_pid     (OddTerminalTab     *self);
gboolean         odd_terminal_tab_get_exited  (OddTerminalTab     *self);

/* Spawns the program again (after it exited, or a failed start). */
void             odd_terminal_tab_restart     (OddTerminalTab     *self);
/* Types @text into the terminal once the program runs, without pressing Enter. */
void             odd_terminal_tab_type        (OddTerminalTab     *self,
                                               const char         *text);
/* Ends the program (SIGHUP to its process group, as closing a terminal does). */
void             odd_terminal_tab_terminate   (OddTerminalTab     *self);

/* The odd-dashboard binary: next to this program, in the build tree, in the bindir, in $PATH;
 * NULL when there is none. */
char            *odd_terminal_find_dashboard  (void);

G_END_DECLS
