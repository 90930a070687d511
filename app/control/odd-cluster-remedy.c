#define G_LOG_DOMAIN "odd-cluster"

#include "odd-cluster-private.h"

/* What a tool's output means. The reference's table matched words like "docker" anywhere,
 * so every failure mentioning a docker command read as "Docker Desktop may not be running";
 * these are the daemon's and kind's actual messages. First match wins. */
static const struct
{
  const char      *needle;  /* lower case */
  OddClusterError  code;
} patterns[] = {
  { "permission denied while trying to connect to the docker daemon", ODD_CLUSTER_ERROR_DOCKER_PERMISSION },
  { "connect: permission denied", ODD_CLUSTER_ERROR_DOCKER_PERMISSION },
  { "cannot connect to the docker daemon", ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING },
  { "is the docker daemon running", ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING },
  { "error during connect", ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING },
  { "port is already allocated", ODD_CLUSTER_ERROR_PORT_IN_USE },
  { "address already in use", ODD_CLUSTER_ERROR_PORT_IN_USE },
  { "node(s) already exist for a cluster", ODD_CLUSTER_ERROR_CLUSTER_EXISTS },
  { "already exists", ODD_CLUSTER_ERROR_CLUSTER_EXISTS },
  { "timed out waiting for the condition", ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT },
  { "exceeded its progress deadline", ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT },
};

OddClusterError
odd_cluster_classify (const char      *output,
                      OddClusterError  fallback)
{
  g_autofree char *lower = NULL;

  if (output == NULL)
    return fallback;

  lower = g_ascii_strdown (output, -1);
  for (guint i = 0; i < G_N_ELEMENTS (patterns); i++)
    if (strstr (lower, patterns[i].needle) != NULL)
      return patterns[i].code;

  return fallback;
}

static const char *
install_step (const char *tool)
{
  if (g_strcmp0 (tool, "docker") == 0)
    return "Install Docker: sudo apt-get install -y docker.io (Debian, Ubuntu), or Docker Engine / "
           "Docker Desktop from https://docs.docker.com/engine/install/";
  if (g_strcmp0 (tool, "kind") == 0)
    return "Install kind: go install sigs.k8s.io/kind@v0.23.0, or download it: curl -Lo kind "
           "https://kind.sigs.k8s.io/dl/v0.23.0/kind-linux-amd64 && chmod +x kind && "
           "sudo mv kind /usr/local/bin/";
  if (g_strcmp0 (tool, "kubectl") == 0)
    return "Install kubectl: curl -LO https://dl.k8s.io/release/v1.30.2/bin/linux/amd64/kubectl && "
           "sudo install -m 0755 kubectl /usr/local/bin/kubectl";
  return NULL;
}

/* @subject: the missing tools (space separated), the port, the workload, ... */
static void
remedy (OddClusterOp     *op,
        OddClusterError   code,
        const char       *subject,
        char            **hint,
        GStrvBuilder     *steps)
{
  OddCluster *self = op->cluster;
  const char *name = odd_cluster_get_name (self);
  const char *context = odd_cluster_get_context (self);

  switch (code)
    {
    case ODD_CLUSTER_ERROR_TOOL_MISSING:
      {
        g_auto(GStrv) tools = g_strsplit (subject, " ", -1);

        *hint = g_strdup ("oddctl runs kind's Kubernetes node as a Docker container and talks "
                          "to it with kubectl; all three must be installed");
        for (guint i = 0; tools[i] != NULL; i++)
          if (install_step (tools[i]) != NULL)
            g_strv_builder_add (steps, install_step (tools[i]));
        g_strv_builder_add (steps, "Or put them in one directory and set ODD_TOOLS_DIR to it");
        g_strv_builder_add (steps, "Then run again: oddctl cluster up");
      }
      break;

    case ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING:
      *hint = g_strdup ("The Docker daemon does not answer");
      g_strv_builder_add (steps, "Start it: sudo systemctl start docker (Docker Desktop: open it "
                                 "and wait until it says it is running)");
      g_strv_builder_add (steps, "Check: docker info");
      g_strv_builder_add (steps, "If DOCKER_HOST is set, check that it points at a running daemon");
      g_strv_builder_add (steps, "Then run again: oddctl cluster up");
      break;

    case ODD_CLUSTER_ERROR_DOCKER_PERMISSION:
      *hint = g_strdup ("You may not use the Docker socket (/var/run/docker.sock)");
      g_strv_builder_add (steps, "Add yourself to the docker group: sudo usermod -aG docker $USER");
      g_strv_builder_add (steps, "Log out and in again (or run: newgrp docker) so the group applies");
      g_strv_builder_add (steps, "Check: docker info");
      g_strv_builder_add (steps, "Then run again: oddctl cluster up");
      break;

    case ODD_CLUSTER_ERROR_CLUSTER_EXISTS:
      *hint = g_strdup_printf ("A previous kind cluster named %s left its node container behind", name);
      g_strv_builder_add (steps, "Remove it: oddctl cluster down");
      {
        g_autofree char *step = g_strdup_printf ("Or: kind delete cluster --name %s", name);

        g_strv_builder_add (steps, step);
      }
      g_strv_builder_add (steps, "Then run again: oddctl cluster up");
      break;

    case ODD_CLUSTER_ERROR_IMAGE_BUILD:
      {
        g_autofree char *rebuild = g_strdup_printf ("Reproduce it: docker build -f "
                                                    "services/deploy/Dockerfile -t %s .  "
                                                    "(from the source tree)",
                                                    odd_cluster_get_image (self));

        *hint = g_strdup ("Building the services image failed; the lines above show the failing "
                          "Dockerfile step");
        g_strv_builder_add (steps, rebuild);
        g_strv_builder_add (steps, "The build installs Debian packages: check that "
                                   "deb.debian.org is reachable from Docker builds");
        g_strv_builder_add (steps, "Check free disk space: docker system df (clean up: docker "
                                   "builder prune)");
      }
      break;

    case ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT:
      {
        g_autofree char *pods = g_strdup_printf ("See why: kubectl --context %s -n odd get pods", context);
        g_autofree char *describe = g_strdup_printf ("kubectl --context %s -n odd describe %s",
                                                     context, subject);
        g_autofree char *logs = g_strdup_printf ("kubectl --context %s -n odd logs %s --all-containers",
                                                 context, subject);

        *hint = g_strdup_printf ("%s did not become ready in time; on a first start, pulling "
                                 "the third-party images can take minutes", subject);
        g_strv_builder_add (steps, pods);
        g_strv_builder_add (steps, describe);
        g_strv_builder_add (steps, logs);
        g_strv_builder_add (steps, "Wait longer: ODD_CLUSTER_ROLLOUT_TIMEOUT=900 oddctl cluster up "
                                   "(it keeps what is already running)");
      }
      break;

    case ODD_CLUSTER_ERROR_PORT_IN_USE:
      {
        g_autofree char *who = g_strdup_printf ("See which program uses it: ss -ltnp 'sport = :%s'",
                                                subject);

        *hint = g_strdup_printf ("Host port %s is taken by another program", subject);
        g_strv_builder_add (steps, who);
        g_strv_builder_add (steps, "Stop that program, or choose other host ports: "
                                   "ODD_CLUSTER_GATEWAY_PORT=13000 ODD_CLUSTER_READ_MODEL_PORT=18080 "
                                   "oddctl cluster up (after oddctl cluster down)");
      }
      break;

    case ODD_CLUSTER_ERROR_NO_CLUSTER:
      *hint = g_strdup_printf ("There is no kind cluster named %s", name);
      g_strv_builder_add (steps, "Create it: oddctl cluster up");
      break;

    case ODD_CLUSTER_ERROR_TIMEOUT:
      {
        g_autofree char *pods = g_strdup_printf ("kubectl --context %s -n odd get pods", context);

        *hint = g_strdup_printf ("%s did not answer in time", subject);
        g_strv_builder_add (steps, "See the state of every workload: oddctl cluster status");
        g_strv_builder_add (steps, pods);
        g_strv_builder_add (steps, "Then run again: oddctl cluster up");
      }
      break;

    case ODD_CLUSTER_ERROR_INVALID:
      *hint = g_strdup ("The configuration is not valid");
      break;

    case ODD_CLUSTER_ERROR_FAILED:
    default:
      {
        g_autofree char *pods = g_strdup_printf ("kubectl --context %s -n odd get pods", context);

        *hint = g_strdup_printf ("The %s step failed; the lines above are the tool's own output", op->step);
        g_strv_builder_add (steps, "See the state of the cluster: oddctl cluster status");
        g_strv_builder_add (steps, pods);
        g_strv_builder_add (steps, "Then run again: oddctl cluster up (it keeps what is already done)");
      }
      break;
    }
}

static JsonObject *
failure_new (const char         *step,
             const char         *message,
             const char         *code,
             const char         *hint,
             const char * const *steps)
{
  JsonObject *failure = json_object_new ();
  JsonArray *remediation = json_array_new ();

  json_object_set_string_member (failure, "step", step);
  json_object_set_string_member (failure, "error", message);
  json_object_set_string_member (failure, "code", code);
  if (hint != NULL)
    json_object_set_string_member (failure, "hint", hint);
  for (guint i = 0; steps != NULL && steps[i] != NULL; i++)
    json_array_add_string_element (remediation, steps[i]);
  json_object_set_array_member (failure, "remediation", remediation);

  return failure;
}

static const char *
code_name (OddClusterError code)
{
  static const char * const names[] = {
    "failed", "tool-missing", "docker-not-running", "docker-permission", "cluster-exists",
    "image-build", "rollout-timeout", "port-in-use", "no-cluster", "timeout", "invalid",
  };

  return (guint) code < G_N_ELEMENTS (names) ? names[code] : "failed";
}

void
odd_cluster_fail (OddClusterOp     *op,
                  OddClusterError   code,
                  const char       *subject,
                  const char       *detail,
                  GError          **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) steps = NULL;
  g_autofree char *hint = NULL;

  remedy (op, code, subject != NULL ? subject : "", &hint, builder);
  steps = g_strv_builder_end (builder);

  g_set_error_literal (error, ODD_CLUSTER_ERROR, code, detail);
  odd_cluster_set_failure (op->cluster, failure_new (op->step, detail, code_name (code), hint,
                                                     (const char * const *) steps));
  odd_cluster_op_report (op, ODD_PROGRESS_FAILED, "%s", detail);
}

void
odd_cluster_fail_plain (OddClusterOp *op,
                        const GError *error)
{
  gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  odd_cluster_set_failure (op->cluster,
                           failure_new (op->step, error->message,
                                        cancelled ? "cancelled" : "failed", NULL, NULL));
  odd_cluster_op_report (op, ODD_PROGRESS_FAILED, "%s", error->message);
}
