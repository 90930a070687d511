#define G_LOG_DOMAIN "odd-oddctl"

#include <stdio.h>

#include "odd-build-config.h"
#include "odd-oddctl.h"

void
odd_oddctl_print_usage (FILE *stream)
{
  fprintf (stream,
           "Usage: oddctl COMMAND\n"
           "\n"
           "Control the Distributed Task Observatory.\n"
           "\n"
           "Commands:\n"
           "  local up [--replicas SERVICE=N,...]\n"
           "                        Start PostgreSQL, Redis, RabbitMQ and the four services on\n"
           "                        this machine (what runs and is healthy is left alone);\n"
           "                        --replicas runs N (1-16) of gateway, read-model, processor\n"
           "                        or metrics-engine, e.g. processor=3,metrics-engine=2, and\n"
           "                        is kept for later commands (stack.json)\n"
           "  local down            Stop them; the data is kept for the next `local up`\n"
           "  local status [--json] Show every component; exit status 1 unless all are healthy\n"
           "                        (or standing by for a ready replica of their service)\n"
           "  local logs NAME [-f]  Print the log of a component (-f: keep following it)\n"
           "  local queue-limit JOBS [BYTES]\n"
           "                        Set the length limit of jobs.created on the running broker\n"
           "                        (0 = none); past it the gateway answers 503 + Retry-After\n"
           "  doctor [--json]       Diagnose Docker, kubectl, kind, the servers, ports, disk and\n"
           "                        memory, with the command that fixes each problem\n"
           "  cluster up [--json]   Create the kind cluster task-observatory, build and load the\n"
           "                        image, deploy, wait for every workload, check /readyz\n"
           "  cluster status [--json]  Nodes, workloads (ready, restarts, autoscaler, evictable pods)\n"
           "                        and port-forwards\n"
           "  cluster forward start NAME | list | stop [NAME]\n"
           "                        Port-forwards for grafana, prometheus, alertmanager, rabbitmq\n"
           "  cluster down [--json] Stop the port-forwards and delete the cluster\n"
           "\n"
           "Options:\n"
           "  -h, --help            Show this help\n"
           "  --version             Show the version\n"
           "\n"
           "Environment:\n"
           "  ODD_STATE_DIR   state directory (default $XDG_STATE_HOME/odd/local,\n"
           "                  i.e. ~/.local/state/odd/local)\n"
           "  ODD_PORT_BASE   first port of the stack (default 18000): postgres +432,\n"
           "                  redis +379, rabbitmq +672/+673, gateway +300, read-model +80,\n"
           "                  processor +100, metrics-engine +101\n"
           "  ODD_JOBS_CREATED_MAX_LENGTH, ODD_JOBS_CREATED_MAX_BYTES\n"
           "                  the limit `local up` sets on jobs.created (100000 jobs,\n"
           "                  1073741824 bytes; 0 = none)\n"
           "\n"
           "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int
odd_oddctl_run (int    argc,
                char **argv)
{
  if (argc < 2)
    {
      odd_oddctl_print_usage (stderr);
      return ODD_ODDCTL_EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      odd_oddctl_print_usage (stdout);
      return ODD_ODDCTL_EXIT_OK;
    }

  if (g_str_equal (argv[1], "--version"))
    {
      printf ("oddctl %s (%s, built %s)\n", ODD_VERSION, ODD_COMMIT, ODD_BUILD_DATE);
      return ODD_ODDCTL_EXIT_OK;
    }

  if (g_str_equal (argv[1], "local"))
    return odd_oddctl_local_run (argc - 2, argv + 2);

  if (g_str_equal (argv[1], "doctor"))
    return odd_oddctl_doctor_run (argc - 2, argv + 2);

  if (g_str_equal (argv[1], "cluster"))
    return odd_oddctl_cluster_run (argc - 2, argv + 2);

  fprintf (stderr, "oddctl: unknown command “%s”\n\n", argv[1]);
  odd_oddctl_print_usage (stderr);
  return ODD_ODDCTL_EXIT_USAGE;
}
