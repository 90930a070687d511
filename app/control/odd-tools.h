/* odd-tools.h: finding the external tools libodd-control runs (docker, kind, kubectl)
 *
 * One lookup for every tool, so that a package can bundle its own copies: $ODD_TOOLS_DIR
 * first (a Flatpak sets it to the directory of its docker CLI, kind and kubectl, which reach
 * the host's Docker daemon through its socket), then $PATH.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The absolute path of the executable @name, from $ODD_TOOLS_DIR, else $PATH. NULL with
 * ODD_CONTROL_ERROR_MISSING_PROGRAM when it is in neither. */
char *odd_tools_find (const char  *name,
                      GError     **error);

G_END_DECLS
