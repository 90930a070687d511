/* odd-oddctl.h: the oddctl command line (kept out of main.c so that tests can drive it) */
#pragma once

#include <stdio.h>
#include <glib.h>

G_BEGIN_DECLS

enum
{
  ODD_ODDCTL_EXIT_OK = 0,
  ODD_ODDCTL_EXIT_FAILURE = 1,
  ODD_ODDCTL_EXIT_USAGE = 2,
};

/* Runs `oddctl argv[1..]`; returns the exit code. */
int odd_oddctl_run       (int    argc,
                          char **argv);
/* `oddctl local ...`: @argv starts after "local". */
int odd_oddctl_local_run (int    argc,
                          char **argv);
/* `oddctl cluster ...`: @argv starts after "cluster". */
int odd_oddctl_cluster_run (int    argc,
                            char **argv);

/* `oddctl doctor [--json]`: @argv starts after "doctor". */
int odd_oddctl_doctor_run (int    argc,
                           char **argv);

void odd_oddctl_print_usage (FILE *stream);

G_END_DECLS
