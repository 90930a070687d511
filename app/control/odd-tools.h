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
char     *odd_tools_find            (const char  *name,
                                     GError     **error);

/* TRUE inside a Flatpak sandbox (/.flatpak-info exists). */
gboolean  odd_tools_in_flatpak      (void);

/* Call once at the start of main(), before any thread: inside a Flatpak the home directory
 * is not the app's, so kind and kubectl keep their kubeconfig under the app's own config
 * directory ($XDG_CONFIG_HOME/kube/config) unless KUBECONFIG says otherwise. Does nothing
 * outside a sandbox. */
void      odd_tools_init_sandbox    (void);

G_END_DECLS
