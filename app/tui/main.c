#define G_LOG_DOMAIN "odd-dashboard"

#include "odd-dashboard.h"

int
main (int    argc,
      char **argv)
{
  return odd_dash_main (argc, argv);
}
