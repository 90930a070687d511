/* odd-observatory: the desktop app (everything else lives in libodd-gui) */
#include <glib/gi18n.h>
#include <locale.h>

#include "odd-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(OddApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, ODD_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = odd_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
