/* main.c: odd-contract, the contract checker */
#define G_LOG_DOMAIN "odd-contract"

#include <locale.h>

#include "odd-contract-cli.h"

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  return odd_contract_cli_run (argc, argv);
}
