/* odd-contract-cli.h: the `odd-contract` command, callable from tests */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs the command line @argv (argv[0] is the program); returns the exit status. */
int odd_contract_cli_run (int    argc,
                          char **argv);

G_END_DECLS
