#define G_LOG_DOMAIN "odd-control"

#include <gio/gio.h>

#include "odd-build-config.h"
#include "odd-control-error.h"
#include "odd-programs.h"

static gboolean
is_executable (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) &&
         !g_file_test (path, G_FILE_TEST_IS_DIR);
}

static int
compare_versions_desc (gconstpointer a,
                       gconstpointer b)
{
  const char *va = *(const char **) a;
  const char *vb = *(const char **) b;
  double da = g_ascii_strtod (va, NULL);
  double db = g_ascii_strtod (vb, NULL);

  return (da < db) - (da > db);
}

char *
odd_programs_find_postgres_bindir (GError **error)
{
  g_autoptr(GDir) dir = g_dir_open ("/usr/lib/postgresql", 0, NULL);
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *pg_ctl = NULL;

  if (dir != NULL)
    {
      const char *entry;

      while ((entry = g_dir_read_name (dir)) != NULL)
        if (g_ascii_isdigit (entry[0]))
          g_ptr_array_add (versions, g_strdup (entry));
    }
  g_ptr_array_sort (versions, compare_versions_desc);

  for (guint i = 0; i < versions->len; i++)
    {
      g_autofree char *bindir = g_build_filename ("/usr/lib/postgresql",
                                                  (char *) versions->pdata[i], "bin", NULL);
      g_autofree char *initdb = g_build_filename (bindir, "initdb", NULL);
      g_autofree char *ctl = g_build_filename (bindir, "pg_ctl", NULL);

      if (is_executable (initdb) && is_executable (ctl))
        return g_steal_pointer (&bindir);
    }

  pg_ctl = g_find_program_in_path ("pg_ctl");
  if (pg_ctl != NULL)
    {
      g_autofree char *bindir = g_path_get_dirname (pg_ctl);
      g_autofree char *initdb = g_build_filename (bindir, "initdb", NULL);

      if (is_executable (initdb))
        return g_steal_pointer (&bindir);
    }

  g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM,
               "PostgreSQL is not installed (no initdb and pg_ctl in /usr/lib/postgresql/*/bin "
               "or $PATH). Install it with: sudo apt-get install -y postgresql");
  return NULL;
}

char *
odd_programs_find_server (const char          *name,
                          const char * const  *dirs,
                          const char          *package,
                          GError             **error)
{
  char *found;

  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], name, NULL);

      if (is_executable (path))
        return g_steal_pointer (&path);
    }

  found = g_find_program_in_path (name);
  if (found != NULL)
    return found;

  g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM,
               "%s is not installed. Install it with: sudo apt-get install -y %s",
               name, package);
  return NULL;
}

static char *
self_exe_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe == NULL)
    return NULL;

  return g_path_get_dirname (exe);
}

char *
odd_programs_find_service (const char  *service,
                           gboolean    *in_build_tree,
                           GError     **error)
{
  g_autofree char *binary = g_strconcat ("odd-", service, NULL);
  g_autofree char *exe_dir = self_exe_dir ();
  const char *build_dirs[] = { g_getenv ("ODD_BUILD_DIR"), ODD_BUILD_DIR, NULL };
  char *found;

  *in_build_tree = FALSE;

  if (exe_dir != NULL)
    {
      g_autofree char *path = g_build_filename (exe_dir, binary, NULL);

      if (is_executable (path))
        return g_steal_pointer (&path);
    }

  for (guint i = 0; i < G_N_ELEMENTS (build_dirs); i++)
    {
      g_autofree char *path = NULL;

      if (build_dirs[i] == NULL || *build_dirs[i] == '\0')
        continue;
      path = g_build_filename (build_dirs[i], "services", service, binary, NULL);
      if (is_executable (path))
        {
          *in_build_tree = TRUE;
          return g_steal_pointer (&path);
        }
    }

  found = g_find_program_in_path (binary);
  if (found != NULL)
    return found;

  g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM,
               "%s not found (looked next to this program, in the build tree %s/services/%s "
               "and in $PATH). Build it with: meson compile -C build",
               binary, build_dirs[0] != NULL ? build_dirs[0] : ODD_BUILD_DIR, service);
  return NULL;
}

char *
odd_programs_source_contracts_dir (void)
{
  const char *env = g_getenv ("ODD_SOURCE_DIR");
  g_autofree char *dir = g_build_filename (env != NULL && *env != '\0' ? env : ODD_SOURCE_DIR,
                                           "contracts", NULL);

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&dir);

  return NULL;
}
