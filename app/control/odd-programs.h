/* odd-programs.h: finding the server and service binaries the stack runs */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The bin dir holding initdb and pg_ctl: the highest /usr/lib/postgresql/<version>/bin,
 * else the directory of pg_ctl in $PATH. The error names the package to install. */
char     *odd_programs_find_postgres_bindir (GError     **error);
/* @name in @dirs (NULL-terminated), else in $PATH; the error names @package. */
char     *odd_programs_find_server          (const char  *name,
                                             const char * const *dirs,
                                             const char  *package,
                                             GError     **error);
/* odd-<service>: next to the running executable, then in the meson build tree
 * ($ODD_BUILD_DIR, else the tree this library was built in) under services/<service>/,
 * then in $PATH. @in_build_tree tells whether it was found in a build tree (which needs
 * CONTRACTS_PATH pointing at the source tree). */
char     *odd_programs_find_service         (const char  *service,
                                             gboolean    *in_build_tree,
                                             GError     **error);
/* The source tree's contracts directory when it exists, else NULL. */
char     *odd_programs_source_contracts_dir (void);

G_END_DECLS
