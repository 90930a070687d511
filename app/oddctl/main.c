#define G_LOG_DOMAIN "odd-oddctl"

#include <locale.h>

#include "odd-oddctl.h"
#include "odd-tools.h"

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_set_prgname ("oddctl");
  odd_tools_init_sandbox ();

  return odd_oddctl_run (argc, argv);
}
