#define G_LOG_DOMAIN "odd-cluster"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "odd-build-config.h"
#include "odd-cluster-private.h"
#include "odd-probe.h"
#include "odd-tools.h"

G_DEFINE_QUARK (odd-cluster-error-quark, odd_cluster_error)

struct _OddCluster
{
  GObject     parent_instance;

  char       *name;
  char       *context;
  char       *image;
  char       *state_dir;
  char       *source_dir;   /* NULL: no source tree, the image must exist already */
  char       *deploy_dir;
  guint16     gateway_port;
  guint16     read_model_port;
  guint       rollout_timeout;
  guint       verify_timeout;

  GHashTable *tools;        /* tool name → path, filled by the op that needs them */
  GHashTable *forward_ports; /* forward name → local port (overrides) */
  GMutex      lock;         /* tools and failure: written on worker threads */
  JsonObject *failure;
  gint        busy;
};

G_DEFINE_FINAL_TYPE (OddCluster, odd_cluster, G_TYPE_OBJECT)

/* The workloads `up` waits for, in the order they come up. */
static const char * const rollout_targets[] = {
  "statefulset/postgres", "statefulset/rabbitmq", "deployment/redis",
  "deployment/processor", "deployment/metrics-engine", "deployment/read-model",
  "deployment/gateway", "deployment/prometheus", "deployment/alertmanager",
  "deployment/grafana", NULL,
};

/* The kind overlay's NodePorts (services/deploy/overlays/kind/nodeports.yaml). */
#define GATEWAY_NODE_PORT    30300
#define READ_MODEL_NODE_PORT 30080

static void
odd_cluster_finalize (GObject *object)
{
  OddCluster *self = ODD_CLUSTER (object);

  g_free (self->name);
  g_free (self->context);
  g_free (self->image);
  g_free (self->state_dir);
  g_free (self->source_dir);
  g_free (self->deploy_dir);
  g_hash_table_unref (self->tools);
  g_hash_table_unref (self->forward_ports);
  g_clear_pointer (&self->failure, json_object_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (odd_cluster_parent_class)->finalize (object);
}

static void
odd_cluster_class_init (OddClusterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = odd_cluster_finalize;
}

static void
odd_cluster_init (OddCluster *self)
{
  self->name = g_strdup (ODD_CLUSTER_DEFAULT_NAME);
  self->context = g_strconcat ("kind-", self->name, NULL);
  self->image = g_strconcat ("odd-services:", ODD_VERSION, NULL);
  self->gateway_port = 3000;
  self->read_model_port = 8080;
  self->rollout_timeout = 300;
  self->verify_timeout = 60;
  self->tools = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->forward_ports = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&self->lock);
}

static gboolean
env_number (const char  *variable,
            guint        min,
            guint        max,
            guint       *value,
            GError     **error)
{
  const char *text = g_getenv (variable);
  guint64 number;

  if (text == NULL || *text == '\0')
    return TRUE;

  if (!g_ascii_string_to_unsigned (text, 10, min, max, &number, NULL))
    {
      g_set_error (error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID,
                   "%s=%s is not a number from %u to %u", variable, text, min, max);
      return FALSE;
    }

  *value = (guint) number;
  return TRUE;
}

static gboolean parse_forward_ports (OddCluster  *self,
                                     GError     **error);

OddCluster *
odd_cluster_new_from_env (GError **error)
{
  g_autoptr(OddCluster) self = g_object_new (ODD_TYPE_CLUSTER, NULL);
  const char *state_home = g_getenv ("XDG_STATE_HOME");
  const char *source = g_getenv ("ODD_SOURCE_DIR");
  const char *deploy = g_getenv ("ODD_DEPLOY_DIR");
  guint gateway = self->gateway_port;
  guint read_model = self->read_model_port;

  if (!env_number ("ODD_CLUSTER_GATEWAY_PORT", 1, 65535, &gateway, error) ||
      !env_number ("ODD_CLUSTER_READ_MODEL_PORT", 1, 65535, &read_model, error) ||
      !env_number ("ODD_CLUSTER_ROLLOUT_TIMEOUT", 1, 86400, &self->rollout_timeout, error))
    return NULL;
  if (gateway == read_model)
    {
      g_set_error (error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID,
                   "ODD_CLUSTER_GATEWAY_PORT and ODD_CLUSTER_READ_MODEL_PORT are both %u", gateway);
      return NULL;
    }
  self->gateway_port = (guint16) gateway;
  self->read_model_port = (guint16) read_model;
  if (!parse_forward_ports (self, error))
    return NULL;

  if (state_home != NULL && g_path_is_absolute (state_home))
    self->state_dir = g_build_filename (state_home, "odd", NULL);
  else
    self->state_dir = g_build_filename (g_get_home_dir (), ".local", "state", "odd", NULL);

  if (source == NULL || *source == '\0')
    source = ODD_SOURCE_DIR;
  {
    g_autofree char *dockerfile = g_build_filename (source, "services", "deploy", "Dockerfile", NULL);

    if (g_file_test (dockerfile, G_FILE_TEST_IS_REGULAR))
      self->source_dir = g_strdup (source);
  }

  if (deploy != NULL && *deploy != '\0')
    self->deploy_dir = g_strdup (deploy);
  else if (self->source_dir != NULL)
    self->deploy_dir = g_build_filename (self->source_dir, "services", "deploy", NULL);
  else
    self->deploy_dir = g_build_filename (ODD_DATADIR, "deploy", NULL);

  return g_steal_pointer (&self);
}

const char *
odd_cluster_get_name (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), NULL);
  return self->name;
}

const char *
odd_cluster_get_context (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), NULL);
  return self->context;
}

const char *
odd_cluster_get_state_dir (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), NULL);
  return self->state_dir;
}

const char *
odd_cluster_get_deploy_dir (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), NULL);
  return self->deploy_dir;
}

const char *
odd_cluster_get_image (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), NULL);
  return self->image;
}

guint16
odd_cluster_get_gateway_port (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), 0);
  return self->gateway_port;
}

guint16
odd_cluster_get_read_model_port (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), 0);
  return self->read_model_port;
}

void
odd_cluster_set_state_dir (OddCluster *self,
                           const char *dir)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));
  g_return_if_fail (dir != NULL);

  g_free (self->state_dir);
  self->state_dir = g_strdup (dir);
}

void
odd_cluster_set_source_dir (OddCluster *self,
                            const char *dir)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));

  g_free (self->source_dir);
  self->source_dir = g_strdup (dir);
}

void
odd_cluster_set_deploy_dir (OddCluster *self,
                            const char *dir)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));
  g_return_if_fail (dir != NULL);

  g_free (self->deploy_dir);
  self->deploy_dir = g_strdup (dir);
}

void
odd_cluster_set_ports (OddCluster *self,
                       guint16     gateway,
                       guint16     read_model)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));
  g_return_if_fail (gateway != 0 && read_model != 0 && gateway != read_model);

  self->gateway_port = gateway;
  self->read_model_port = read_model;
}

void
odd_cluster_set_rollout_timeout (OddCluster *self,
                                 guint       seconds)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));
  g_return_if_fail (seconds > 0);

  self->rollout_timeout = seconds;
}

void
odd_cluster_set_verify_timeout (OddCluster *self,
                                guint       seconds)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));

  self->verify_timeout = seconds;
}

void
odd_cluster_set_forward_port (OddCluster *self,
                              const char *name,
                              guint16     port)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));
  g_return_if_fail (g_strv_contains (odd_cluster_forward_names (), name));
  g_return_if_fail (port != 0);

  g_hash_table_replace (self->forward_ports, g_strdup (name), GUINT_TO_POINTER ((guint) port));
}

guint16
odd_cluster_get_forward_port (OddCluster *self,
                              const char *name,
                              guint16     default_port)
{
  gpointer port;

  if (g_hash_table_lookup_extended (self->forward_ports, name, NULL, &port))
    return (guint16) GPOINTER_TO_UINT (port);
  return default_port;
}

/* ODD_CLUSTER_FORWARD_PORTS=grafana=13002,prometheus=19090 */
static gboolean
parse_forward_ports (OddCluster  *self,
                     GError     **error)
{
  const char *text = g_getenv ("ODD_CLUSTER_FORWARD_PORTS");
  g_auto(GStrv) items = NULL;

  if (text == NULL || *text == '\0')
    return TRUE;

  items = g_strsplit (text, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_auto(GStrv) pair = g_strsplit (g_strstrip (items[i]), "=", 2);
      guint64 port;

      if (g_strv_length (pair) != 2 || !g_strv_contains (odd_cluster_forward_names (), pair[0]) ||
          !g_ascii_string_to_unsigned (pair[1], 10, 1, 65535, &port, NULL))
        {
          g_set_error (error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID,
                       "ODD_CLUSTER_FORWARD_PORTS: “%s” is not NAME=PORT with NAME one of "
                       "grafana, prometheus, alertmanager, rabbitmq", items[i]);
          return FALSE;
        }
      odd_cluster_set_forward_port (self, pair[0], (guint16) port);
    }

  return TRUE;
}

char *
odd_cluster_dup_kind_config (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), NULL);

  /* Only loopback: the gateway accepts jobs without a token by default. */
  return g_strdup_printf ("# Generated by oddctl cluster up: kind cluster %s\n"
                          "kind: Cluster\n"
                          "apiVersion: kind.x-k8s.io/v1alpha4\n"
                          "name: %s\n"
                          "nodes:\n"
                          "  - role: control-plane\n"
                          "    extraPortMappings:\n"
                          "      # gateway (NodePort %d)\n"
                          "      - containerPort: %d\n"
                          "        hostPort: %u\n"
                          "        listenAddress: \"127.0.0.1\"\n"
                          "        protocol: TCP\n"
                          "      # read-model (NodePort %d)\n"
                          "      - containerPort: %d\n"
                          "        hostPort: %u\n"
                          "        listenAddress: \"127.0.0.1\"\n"
                          "        protocol: TCP\n",
                          self->name, self->name,
                          GATEWAY_NODE_PORT, GATEWAY_NODE_PORT, self->gateway_port,
                          READ_MODEL_NODE_PORT, READ_MODEL_NODE_PORT, self->read_model_port);
}

JsonObject *
odd_cluster_get_failure (OddCluster *self)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), NULL);
  return self->failure;
}

void
odd_cluster_set_failure (OddCluster *self,
                         JsonObject *failure)
{
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->failure, json_object_unref);
  self->failure = failure;
  g_mutex_unlock (&self->lock);
}

const char *
odd_cluster_get_tool_path (OddCluster *self,
                           const char *tool)
{
  const char *path;

  g_mutex_lock (&self->lock);
  path = g_hash_table_lookup (self->tools, tool);
  g_mutex_unlock (&self->lock);

  return path;
}

char *
odd_cluster_forwards_file (OddCluster *self)
{
  return g_build_filename (self->state_dir, "forwards.json", NULL);
}

/* Looks every tool up (again: one may have been installed since). */
gboolean
odd_cluster_find_tools (OddClusterOp       *op,
                        const char * const *tools,
                        GError            **error)
{
  g_autoptr(GString) missing = g_string_new (NULL);

  for (guint i = 0; tools[i] != NULL; i++)
    {
      char *path = odd_tools_find (tools[i], NULL);

      if (path == NULL)
        {
          g_string_append_printf (missing, "%s%s", missing->len > 0 ? " " : "", tools[i]);
          continue;
        }
      g_mutex_lock (&op->cluster->lock);
      g_hash_table_replace (op->cluster->tools, g_strdup (tools[i]), path);
      g_mutex_unlock (&op->cluster->lock);
    }

  if (missing->len > 0)
    {
      g_autofree char *detail = g_strdup_printf ("Not installed: %s", missing->str);

      odd_cluster_fail (op, ODD_CLUSTER_ERROR_TOOL_MISSING, missing->str, detail, error);
      return FALSE;
    }

  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Running tools */

/* argv = path of @tool + @args (NULL-terminated). */
static char **
tool_argv (OddClusterOp       *op,
           const char         *tool,
           const char * const *args)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_add (builder, odd_cluster_get_tool_path (op->cluster, tool));
  g_strv_builder_addv (builder, (const char **) args);
  return g_strv_builder_end (builder);
}

static const char *
last_line (const char *text)
{
  const char *newline = strrchr (text, '\n');

  return newline != NULL ? newline + 1 : text;
}

/* "kubectl rollout status deployment/gateway" for messages: the words up to the first
 * option, without the --context and -n that every kubectl call has. */
static char *
describe_command (const char         *tool,
                  const char * const *args)
{
  GString *s = g_string_new (tool);
  guint words = 0;

  for (guint i = 0; args[i] != NULL && words < 3; i++)
    {
      if ((g_str_equal (args[i], "--context") || g_str_equal (args[i], "-n")) && args[i + 1] != NULL)
        {
          i++;
          continue;
        }
      if (args[i][0] == '-')
        break;
      g_string_append_printf (s, " %s", args[i]);
      words++;
    }

  return g_string_free (s, FALSE);
}

/* Runs a tool; any failure (start, cancellation, timeout, exit status) is an error that
 * names the command, classified with @fallback for a remedy. @result keeps the output. */
static gboolean
run_tool (OddClusterOp       *op,
          const char         *tool,
          const char * const *args,
          guint               timeout_s,
          gboolean            stream,
          OddClusterError     fallback,
          const char         *subject,
          OddClusterResult   *result,
          GError            **error)
{
  g_auto(GStrv) argv = tool_argv (op, tool, args);
  g_autofree char *command = NULL;
  g_autofree char *detail = NULL;
  g_autoptr(GError) local_error = NULL;
  OddClusterError code;

  if (!odd_cluster_run (op, (const char * const *) argv, timeout_s, stream, result, &local_error))
    {
      odd_cluster_fail_plain (op, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!result->timed_out && result->exit_status == 0)
    return TRUE;

  command = describe_command (tool, args);
  if (result->timed_out)
    {
      code = fallback == ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT ? fallback : ODD_CLUSTER_ERROR_TIMEOUT;
      detail = g_strdup_printf ("%s did not finish within %u s", command, timeout_s);
    }
  else
    {
      code = odd_cluster_classify (result->output, fallback);
      /* Only the daemon's own errors override a build's or a rollout's meaning. */
      if (fallback != ODD_CLUSTER_ERROR_FAILED && fallback != ODD_CLUSTER_ERROR_CLUSTER_EXISTS &&
          code != ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING && code != ODD_CLUSTER_ERROR_DOCKER_PERMISSION &&
          code != ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT)
        code = fallback;
      detail = g_strdup_printf ("%s failed (exit status %d)%s%s", command, result->exit_status,
                                *result->tail != '\0' ? ": " : "",
                                *result->tail != '\0' ? last_line (result->tail) : "");
    }

  odd_cluster_fail (op, code, code == ODD_CLUSTER_ERROR_TIMEOUT ? command : subject, detail, error);
  return FALSE;
}

static gboolean
cluster_exists (OddClusterOp  *op,
                gboolean      *exists,
                GError       **error)
{
  static const char * const args[] = { "get", "clusters", NULL };
  g_auto(OddClusterResult) result = { 0 };
  g_auto(GStrv) lines = NULL;

  if (!run_tool (op, "kind", args, 60, FALSE, ODD_CLUSTER_ERROR_FAILED, NULL, &result, error))
    return FALSE;

  lines = g_strsplit (result.output, "\n", -1);
  *exists = FALSE;
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_strcmp0 (g_strstrip (lines[i]), op->cluster->name) == 0)
      *exists = TRUE;

  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* up */

static gboolean
up_doctor (OddClusterOp  *op,
           GError       **error)
{
  static const char * const tools[] = { "docker", "kind", "kubectl", NULL };
  static const char * const info[] = { "info", "--format", "{{.ServerVersion}}", NULL };
  g_auto(OddClusterResult) result = { 0 };

  op->step = "doctor";
  op->fraction = 0.0;
  odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "checking docker, kind and kubectl");
  if (!odd_cluster_find_tools (op, tools, error))
    return FALSE;
  if (!run_tool (op, "docker", info, 30, FALSE, ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING, NULL,
                 &result, error))
    return FALSE;

  op->fraction = 0.05;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "docker %s, kind and kubectl found",
                         g_strstrip (result.output));
  return TRUE;
}

static gboolean
up_cluster (OddClusterOp  *op,
            GError       **error)
{
  OddCluster *self = op->cluster;
  g_autofree char *config_dir = g_build_filename (self->state_dir, "cluster", NULL);
  g_autofree char *config_file = g_build_filename (config_dir, "kind-config.yaml", NULL);
  g_autofree char *config = NULL;
  g_auto(OddClusterResult) result = { 0 };
  gboolean exists = FALSE;
  guint16 ports[2] = { self->gateway_port, self->read_model_port };

  op->step = "cluster";
  if (!cluster_exists (op, &exists, error))
    return FALSE;
  if (exists)
    {
      op->fraction = 0.25;
      odd_cluster_op_report (op, ODD_PROGRESS_SKIPPED, "kind cluster %s exists; using it", self->name);
      return TRUE;
    }

  /* A taken host port fails `kind create` only after it pulled and started the node. */
  for (guint i = 0; i < G_N_ELEMENTS (ports); i++)
    if (odd_probe_tcp (ports[i], op->cancellable))
      {
        g_autofree char *port = g_strdup_printf ("%u", ports[i]);
        g_autofree char *detail = g_strdup_printf ("Host port %u, which the cluster maps to the %s, "
                                                   "is in use", ports[i],
                                                   i == 0 ? "gateway" : "read-model");

        odd_cluster_fail (op, ODD_CLUSTER_ERROR_PORT_IN_USE, port, detail, error);
        return FALSE;
      }

  config = odd_cluster_dup_kind_config (self);
  if (g_mkdir_with_parents (config_dir, 0700) != 0 ||
      !g_file_set_contents (config_file, config, -1, NULL))
    {
      g_autofree char *detail = g_strdup_printf ("Cannot write %s: %s", config_file, g_strerror (errno));

      odd_cluster_fail (op, ODD_CLUSTER_ERROR_INVALID, NULL, detail, error);
      return FALSE;
    }

  odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "creating kind cluster %s (%s)", self->name,
                         config_file);
  {
    const char * const args[] = { "create", "cluster", "--name", self->name, "--config", config_file,
                                  "--wait", "120s", NULL };
    g_autofree char *port = g_strdup_printf ("%u", self->gateway_port);

    if (!run_tool (op, "kind", args, 900, TRUE, ODD_CLUSTER_ERROR_FAILED, port, &result, error))
      return FALSE;
  }

  op->fraction = 0.25;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "kind cluster %s created", self->name);
  return TRUE;
}

static gboolean
up_image (OddClusterOp  *op,
          GError       **error)
{
  OddCluster *self = op->cluster;
  g_auto(OddClusterResult) result = { 0 };
  g_autofree char *dockerfile = NULL;
  g_autofree char *version_arg = g_strconcat ("ODD_VERSION=", ODD_VERSION, NULL);

  op->step = "image";
  if (self->source_dir != NULL)
    dockerfile = g_build_filename (self->source_dir, "services", "deploy", "Dockerfile", NULL);

  if (dockerfile == NULL || !g_file_test (dockerfile, G_FILE_TEST_IS_REGULAR))
    {
      static const char *args[] = { "image", "inspect", "--format", "{{.Id}}", NULL, NULL };

      /* Installed without sources: use an image built (or pulled and tagged) before. */
      args[4] = self->image;
      if (!run_tool (op, "docker", args, 60, FALSE, ODD_CLUSTER_ERROR_IMAGE_BUILD, NULL, &result, error))
        return FALSE;
      op->fraction = 0.5;
      odd_cluster_op_report (op, ODD_PROGRESS_SKIPPED, "no source tree to build from; using the "
                             "existing image %s", self->image);
      return TRUE;
    }

  /* One image holds the four services, so this single build is all of them. */
  odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "building %s from %s", self->image, dockerfile);
  {
    const char * const args[] = { "build", "-f", dockerfile, "-t", self->image, "--build-arg",
                                  version_arg, self->source_dir, NULL };

    if (!run_tool (op, "docker", args, 3600, TRUE, ODD_CLUSTER_ERROR_IMAGE_BUILD, NULL, &result, error))
      return FALSE;
  }

  op->fraction = 0.5;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "built %s", self->image);
  return TRUE;
}

static gboolean
up_load (OddClusterOp  *op,
         GError       **error)
{
  OddCluster *self = op->cluster;
  const char * const args[] = { "load", "docker-image", self->image, "--name", self->name, NULL };
  g_auto(OddClusterResult) result = { 0 };

  op->step = "load";
  odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "loading %s into the node", self->image);
  if (!run_tool (op, "kind", args, 900, TRUE, ODD_CLUSTER_ERROR_FAILED, NULL, &result, error))
    return FALSE;

  op->fraction = 0.6;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "loaded %s", self->image);
  return TRUE;
}

static gboolean
random_hex (char    *out,
            gsize    n_bytes,
            GError **error)
{
  guint8 bytes[64];
  int fd;
  gssize got;

  g_assert (n_bytes <= sizeof bytes);
  fd = g_open ("/dev/urandom", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot open /dev/urandom: %s", g_strerror (saved_errno));
      return FALSE;
    }
  got = read (fd, bytes, n_bytes);
  close (fd);
  if (got != (gssize) n_bytes)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "Short read from /dev/urandom");
      return FALSE;
    }

  for (gsize i = 0; i < n_bytes; i++)
    g_snprintf (out + 2 * i, 3, "%02x", bytes[i]);
  return TRUE;
}

/* The credentials live only in base/secrets.env (git-ignored), made once with random values;
 * kustomize's secretGenerator turns them into the Secret. */
static gboolean
up_secrets (OddClusterOp  *op,
            GError       **error)
{
  static const char * const keys[] = {
    "POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD", NULL,
  };
  g_autofree char *base = g_build_filename (op->deploy_dir, "base", NULL);
  g_autofree char *file = g_build_filename (base, "secrets.env", NULL);
  g_autoptr(GString) text = g_string_new ("# Generated by oddctl cluster up; never commit this file.\n");
  g_autoptr(GError) local_error = NULL;

  op->step = "secrets";
  if (g_file_test (file, G_FILE_TEST_EXISTS))
    {
      odd_cluster_op_report (op, ODD_PROGRESS_SKIPPED, "%s exists; keeping its credentials", file);
      return TRUE;
    }
  for (guint i = 0; keys[i] != NULL; i++)
    {
      char hex[2 * 24 + 1];

      if (!random_hex (hex, 24, &local_error))
        {
          odd_cluster_fail_plain (op, local_error);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_string_append_printf (text, "%s=%s\n", keys[i], hex);
    }

  /* 0600 from the start: the file never exists readable by others. */
  {
    int fd = g_open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    gboolean written = fd >= 0 && write (fd, text->str, text->len) == (gssize) text->len;
    int saved_errno = errno;

    if (fd >= 0)
      close (fd);
    if (!written)
      {
        g_autofree char *detail = g_strdup_printf ("Cannot write %s: %s (copy services/deploy to a "
                                                   "writable directory and set ODD_DEPLOY_DIR to it)",
                                                   file, g_strerror (saved_errno));

        g_unlink (file);
        odd_cluster_fail (op, ODD_CLUSTER_ERROR_INVALID, NULL, detail, error);
        return FALSE;
      }
  }

  odd_cluster_op_report (op, ODD_PROGRESS_OK, "generated random credentials in %s", file);
  return TRUE;
}

static gboolean
up_deploy (OddClusterOp  *op,
           GError       **error)
{
  OddCluster *self = op->cluster;
  g_autofree char *overlay = g_build_filename (op->deploy_dir, "overlays", "kind", NULL);
  const char * const args[] = { "--context", self->context, "apply", "-k", overlay, NULL };
  g_auto(OddClusterResult) result = { 0 };

  op->step = "deploy";
  odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "applying %s", overlay);
  if (!run_tool (op, "kubectl", args, 300, TRUE, ODD_CLUSTER_ERROR_FAILED, NULL, &result, error))
    return FALSE;

  op->fraction = 0.65;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "applied the kind overlay to namespace odd");
  return TRUE;
}

static gboolean
up_rollout (OddClusterOp  *op,
            GError       **error)
{
  OddCluster *self = op->cluster;
  guint n = g_strv_length ((char **) rollout_targets);
  g_autofree char *timeout_arg = g_strdup_printf ("--timeout=%us", self->rollout_timeout);

  op->step = "rollout";
  for (guint i = 0; i < n; i++)
    {
      const char * const args[] = { "--context", self->context, "-n", "odd", "rollout", "status",
                                    rollout_targets[i], timeout_arg, NULL };
      g_auto(OddClusterResult) result = { 0 };

      odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "waiting for %s (up to %u s)",
                             rollout_targets[i], self->rollout_timeout);
      /* kubectl enforces the timeout; ours only catches a kubectl that hangs. */
      if (!run_tool (op, "kubectl", args, self->rollout_timeout + 30, TRUE,
                     ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT, rollout_targets[i], &result, error))
        return FALSE;
      op->fraction = 0.65 + 0.3 * (i + 1) / n;
      odd_cluster_op_report (op, ODD_PROGRESS_OK, "%s is ready", rollout_targets[i]);
    }

  return TRUE;
}

static gboolean
up_verify (OddClusterOp  *op,
           GError       **error)
{
  OddCluster *self = op->cluster;
  gint64 deadline = g_get_monotonic_time () + (gint64) self->verify_timeout * G_USEC_PER_SEC;
  guint gateway = 0, read_model = 0;

  op->step = "verify";
  odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "checking /readyz on 127.0.0.1:%u and 127.0.0.1:%u",
                         self->gateway_port, self->read_model_port);
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;

      gateway = odd_probe_http_status (self->gateway_port, "/readyz", op->cancellable);
      read_model = odd_probe_http_status (self->read_model_port, "/readyz", op->cancellable);
      if (gateway == 200 && read_model == 200)
        break;
      if (g_cancellable_set_error_if_cancelled (op->cancellable, &local_error))
        {
          odd_cluster_fail_plain (op, local_error);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          g_autofree char *subject = g_strdup_printf ("/readyz through the mapped ports %u and %u",
                                                      self->gateway_port, self->read_model_port);
          g_autofree char *detail = g_strdup_printf ("After %u s, the gateway's /readyz answers %u and "
                                                     "the read-model's %u (0: no answer)",
                                                     self->verify_timeout, gateway, read_model);

          odd_cluster_fail (op, ODD_CLUSTER_ERROR_TIMEOUT, subject, detail, error);
          return FALSE;
        }
      g_usleep (G_USEC_PER_SEC / 2);
    }

  op->fraction = 0.98;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "gateway and read-model are ready");
  return TRUE;
}

/* Copies the tree at @from to @to (existing files are replaced), except secrets.env. */
static gboolean
copy_tree (GFile         *from,
           GFile         *to,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!g_file_make_directory_with_parents (to, cancellable, &local_error) &&
      !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  children = g_file_enumerate_children (from, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, cancellable, error);
  if (children == NULL)
    return FALSE;

  for (;;)
    {
      GFileInfo *info = NULL;
      GFile *child = NULL;
      g_autoptr(GFile) target = NULL;

      if (!g_file_enumerator_iterate (children, &info, &child, cancellable, error))
        return FALSE;
      if (info == NULL)
        break;
      if (g_str_equal (g_file_info_get_name (info), "secrets.env"))
        continue;
      target = g_file_get_child (to, g_file_info_get_name (info));
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        {
          if (!copy_tree (child, target, cancellable, error))
            return FALSE;
        }
      else if (!g_file_copy (child, target, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, error))
        return FALSE;
    }

  return TRUE;
}

/* The manifests as installed (a package's share/odd/deploy) are read-only, but secrets.env
 * must be written next to them: then the tree is copied to the state dir (the manifests anew
 * each time, the credentials kept) and used from there. */
static gboolean
up_resolve_deploy_dir (OddClusterOp  *op,
                       GError       **error)
{
  OddCluster *self = op->cluster;
  g_autofree char *base = g_build_filename (self->deploy_dir, "base", NULL);
  g_autofree char *copy = NULL;
  g_autoptr(GFile) from = NULL;
  g_autoptr(GFile) to = NULL;
  g_autoptr(GError) local_error = NULL;

  op->step = "secrets";
  if (!g_file_test (base, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *detail = g_strdup_printf ("No kustomize base in %s (set ODD_DEPLOY_DIR to "
                                                 "the services/deploy directory)", self->deploy_dir);

      odd_cluster_fail (op, ODD_CLUSTER_ERROR_INVALID, NULL, detail, error);
      return FALSE;
    }
  if (access (base, W_OK) == 0)
    {
      op->deploy_dir = g_strdup (self->deploy_dir);
      return TRUE;
    }

  copy = g_build_filename (self->state_dir, "deploy", NULL);
  from = g_file_new_for_path (self->deploy_dir);
  to = g_file_new_for_path (copy);
  odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "%s is read-only; using a copy in %s",
                         self->deploy_dir, copy);
  if (!copy_tree (from, to, op->cancellable, &local_error))
    {
      g_autofree char *detail = g_strdup_printf ("Cannot copy %s to %s: %s", self->deploy_dir, copy,
                                                 local_error->message);

      odd_cluster_fail (op, ODD_CLUSTER_ERROR_INVALID, NULL, detail, error);
      return FALSE;
    }

  op->deploy_dir = g_steal_pointer (&copy);
  return TRUE;
}

static gboolean
up_run (OddClusterOp  *op,
        GError       **error)
{
  OddCluster *self = op->cluster;
  gboolean ok;

  ok = up_doctor (op, error) && up_cluster (op, error) && up_image (op, error) &&
       up_load (op, error) && up_resolve_deploy_dir (op, error) && up_secrets (op, error) &&
       up_deploy (op, error) && up_rollout (op, error) && up_verify (op, error);
  g_clear_pointer (&op->deploy_dir, g_free);
  if (!ok)
    return FALSE;

  op->step = "ready";
  op->fraction = 1.0;
  odd_cluster_op_report (op, ODD_PROGRESS_OK,
                         "gateway http://127.0.0.1:%u, read-model http://127.0.0.1:%u; "
                         "Grafana, Prometheus, Alertmanager, RabbitMQ: oddctl cluster forward start NAME",
                         self->gateway_port, self->read_model_port);
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* down */

static gboolean
down_run (OddClusterOp  *op,
          GError       **error)
{
  static const char * const tools[] = { "kind", NULL };
  OddCluster *self = op->cluster;
  g_autoptr(GError) local_error = NULL;
  gboolean exists = FALSE;
  int stopped;

  op->step = "forwards";
  op->fraction = 0.0;
  stopped = odd_cluster_forward_stop (self, NULL, &local_error);
  if (stopped < 0)
    {
      odd_cluster_fail_plain (op, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  op->fraction = 0.1;
  odd_cluster_op_report (op, stopped > 0 ? ODD_PROGRESS_OK : ODD_PROGRESS_SKIPPED,
                         "stopped %d port-forward%s", stopped, stopped == 1 ? "" : "s");

  op->step = "cluster";
  if (!odd_cluster_find_tools (op, tools, error) || !cluster_exists (op, &exists, error))
    return FALSE;
  if (!exists)
    {
      op->fraction = 1.0;
      odd_cluster_op_report (op, ODD_PROGRESS_SKIPPED, "no kind cluster %s", self->name);
      return TRUE;
    }

  odd_cluster_op_report (op, ODD_PROGRESS_RUNNING, "deleting kind cluster %s", self->name);
  {
    const char * const args[] = { "delete", "cluster", "--name", self->name, NULL };
    g_auto(OddClusterResult) result = { 0 };

    if (!run_tool (op, "kind", args, 300, TRUE, ODD_CLUSTER_ERROR_FAILED, NULL, &result, error))
      return FALSE;
  }

  op->fraction = 1.0;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "deleted kind cluster %s", self->name);
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* status */

static JsonNode *
kubectl_json (OddClusterOp       *op,
              const char * const *args,
              GError            **error)
{
  g_auto(OddClusterResult) result = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;

  if (!run_tool (op, "kubectl", args, 60, FALSE, ODD_CLUSTER_ERROR_FAILED, NULL, &result, error))
    return NULL;
  if (!json_parser_load_from_data (parser, result.output, -1, &local_error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_autofree char *detail = g_strdup_printf ("kubectl %s %s printed no JSON object: %s",
                                                 args[2], args[3],
                                                 local_error != NULL ? local_error->message : "not an object");

      odd_cluster_fail (op, ODD_CLUSTER_ERROR_FAILED, NULL, detail, error);
      return NULL;
    }

  return json_node_ref (json_parser_get_root (parser));
}

static JsonArray *
items_of (JsonNode *list)
{
  JsonObject *object = json_node_get_object (list);

  return json_object_has_member (object, "items")
    ? json_object_get_array_member (object, "items") : NULL;
}

static JsonObject *
member_object (JsonObject *object,
               const char *name)
{
  if (object == NULL || !json_object_has_member (object, name))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, name)))
    return NULL;
  return json_object_get_object_member (object, name);
}

static gint64
member_int (JsonObject *object,
            const char *name)
{
  if (object == NULL || !json_object_has_member (object, name))
    return 0;
  return json_object_get_int_member (object, name);
}

static JsonArray *
nodes_summary (JsonNode *nodes)
{
  JsonArray *out = json_array_new ();
  JsonArray *items = items_of (nodes);

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *node = json_array_get_object_element (items, i);
      JsonObject *status = member_object (node, "status");
      JsonArray *conditions = status != NULL && json_object_has_member (status, "conditions")
                              ? json_object_get_array_member (status, "conditions") : NULL;
      JsonObject *entry = json_object_new ();
      gboolean ready = FALSE;

      for (guint j = 0; conditions != NULL && j < json_array_get_length (conditions); j++)
        {
          JsonObject *c = json_array_get_object_element (conditions, j);

          if (g_strcmp0 (json_object_get_string_member_with_default (c, "type", ""), "Ready") == 0)
            ready = g_strcmp0 (json_object_get_string_member_with_default (c, "status", ""), "True") == 0;
        }
      json_object_set_string_member (entry, "name",
                                     json_object_get_string_member_with_default (member_object (node, "metadata"),
                                                                                 "name", ""));
      json_object_set_boolean_member (entry, "ready", ready);
      json_array_add_object_element (out, entry);
    }

  return out;
}

/* Restarts per workload: the pods' container restart counts, by app.kubernetes.io/name. */
static GHashTable *
restarts_by_app (JsonNode *pods)
{
  GHashTable *restarts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonArray *items = items_of (pods);

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *pod = json_array_get_object_element (items, i);
      JsonObject *labels = member_object (member_object (pod, "metadata"), "labels");
      JsonObject *status = member_object (pod, "status");
      JsonArray *containers = status != NULL && json_object_has_member (status, "containerStatuses")
                              ? json_object_get_array_member (status, "containerStatuses") : NULL;
      const char *app;
      gint64 sum;

      if (labels == NULL || !json_object_has_member (labels, "app.kubernetes.io/name"))
        continue;
      app = json_object_get_string_member (labels, "app.kubernetes.io/name");
      sum = GPOINTER_TO_SIZE (g_hash_table_lookup (restarts, app));
      for (guint j = 0; containers != NULL && j < json_array_get_length (containers); j++)
        sum += member_int (json_array_get_object_element (containers, j), "restartCount");
      g_hash_table_replace (restarts, g_strdup (app), GSIZE_TO_POINTER ((gsize) sum));
    }

  return restarts;
}

static gboolean
labels_select (JsonObject *selector,
               JsonObject *labels)
{
  g_autoptr(GList) keys = NULL;

  if (selector == NULL || labels == NULL || json_object_get_size (selector) == 0)
    return FALSE;
  keys = json_object_get_members (selector);
  for (GList *k = keys; k != NULL; k = k->next)
    if (!json_object_has_member (labels, k->data)
        || g_strcmp0 (json_object_get_string_member_with_default (labels, k->data, ""),
                      json_object_get_string_member_with_default (selector, k->data, "")) != 0)
      return FALSE;
  return TRUE;
}

/* The autoscaler of a workload: {"min","max","current","desired"}, else NULL. */
static JsonObject *
autoscaler_of (JsonArray  *scaling,
               const char *kind,
               const char *name)
{
  for (guint i = 0; scaling != NULL && i < json_array_get_length (scaling); i++)
    {
      JsonObject *item = json_array_get_object_element (scaling, i);
      JsonObject *spec = member_object (item, "spec");
      JsonObject *status = member_object (item, "status");
      JsonObject *target = member_object (spec, "scaleTargetRef");
      JsonObject *out;

      if (g_strcmp0 (json_object_get_string_member_with_default (item, "kind", ""), "HorizontalPodAutoscaler") != 0
          || g_strcmp0 (json_object_get_string_member_with_default (target, "kind", ""), kind) != 0
          || g_strcmp0 (json_object_get_string_member_with_default (target, "name", ""), name) != 0)
        continue;
      out = json_object_new ();
      json_object_set_int_member (out, "min", spec != NULL && json_object_has_member (spec, "minReplicas")
                                              ? json_object_get_int_member (spec, "minReplicas") : 1);
      json_object_set_int_member (out, "max", member_int (spec, "maxReplicas"));
      json_object_set_int_member (out, "current", member_int (status, "currentReplicas"));
      json_object_set_int_member (out, "desired", member_int (status, "desiredReplicas"));
      return out;
    }
  return NULL;
}

/* The PodDisruptionBudget that selects @pod_labels: how many pods may be evicted now (-1: none). */
static gint64
disruptions_allowed (JsonArray  *scaling,
                     JsonObject *pod_labels)
{
  for (guint i = 0; scaling != NULL && i < json_array_get_length (scaling); i++)
    {
      JsonObject *item = json_array_get_object_element (scaling, i);
      JsonObject *selector = member_object (member_object (item, "spec"), "selector");

      if (g_strcmp0 (json_object_get_string_member_with_default (item, "kind", ""), "PodDisruptionBudget") == 0
          && labels_select (member_object (selector, "matchLabels"), pod_labels))
        return member_int (member_object (item, "status"), "disruptionsAllowed");
    }
  return -1;
}

static JsonArray *
workloads_summary (JsonNode *workloads,
                   JsonNode *pods,
                   JsonNode *scaling)
{
  g_autoptr(GHashTable) restarts = restarts_by_app (pods);
  JsonArray *out = json_array_new ();
  JsonArray *items = items_of (workloads);
  JsonArray *scalers = items_of (scaling);

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *w = json_array_get_object_element (items, i);
      JsonObject *metadata = member_object (w, "metadata");
      JsonObject *spec = member_object (w, "spec");
      JsonObject *status = member_object (w, "status");
      JsonObject *pod_labels = member_object (member_object (member_object (spec, "template"), "metadata"), "labels");
      const char *name = json_object_get_string_member_with_default (metadata, "name", "");
      const char *kind = json_object_get_string_member_with_default (w, "kind", "");
      JsonObject *entry = json_object_new ();
      JsonObject *autoscaler = autoscaler_of (scalers, kind, name);
      gint64 desired = spec != NULL && json_object_has_member (spec, "replicas")
                       ? json_object_get_int_member (spec, "replicas") : 1;
      gint64 allowed = disruptions_allowed (scalers, pod_labels);

      json_object_set_string_member (entry, "kind", kind);
      json_object_set_string_member (entry, "name", name);
      json_object_set_int_member (entry, "ready", member_int (status, "readyReplicas"));
      json_object_set_int_member (entry, "desired", desired);
      json_object_set_int_member (entry, "restarts",
                                  (gint64) GPOINTER_TO_SIZE (g_hash_table_lookup (restarts, name)));
      if (autoscaler != NULL)
        json_object_set_object_member (entry, "autoscaler", autoscaler);
      if (allowed >= 0)
        json_object_set_int_member (entry, "disruptionsAllowed", allowed);
      json_array_add_object_element (out, entry);
    }

  return out;
}

static JsonNode *
status_run (OddClusterOp  *op,
            GError       **error)
{
  static const char * const tools[] = { "kind", "kubectl", NULL };
  OddCluster *self = op->cluster;
  g_autoptr(JsonNode) forwards = NULL;
  JsonObject *root = json_object_new ();
  JsonObject *urls;
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gboolean exists = FALSE;

  json_node_take_object (node, root);
  op->step = "status";
  if (!odd_cluster_find_tools (op, tools, error) || !cluster_exists (op, &exists, error))
    {
      json_node_unref (node);
      return NULL;
    }

  json_object_set_string_member (root, "cluster", self->name);
  json_object_set_string_member (root, "context", self->context);
  json_object_set_boolean_member (root, "exists", exists);
  if (exists)
    {
      const char * const node_args[] = { "--context", self->context, "get", "nodes", "-o", "json", NULL };
      const char * const workload_args[] = { "--context", self->context, "get",
                                             "deployments,statefulsets", "-n", "odd", "-o", "json", NULL };
      const char * const pod_args[] = { "--context", self->context, "get", "pods", "-n", "odd",
                                        "-o", "json", NULL };
      const char * const scaling_args[] = { "--context", self->context, "get",
                                            "horizontalpodautoscalers,poddisruptionbudgets", "-n", "odd",
                                            "-o", "json", NULL };
      g_autoptr(JsonNode) nodes = kubectl_json (op, node_args, error);
      g_autoptr(JsonNode) workloads = nodes != NULL ? kubectl_json (op, workload_args, error) : NULL;
      g_autoptr(JsonNode) pods = workloads != NULL ? kubectl_json (op, pod_args, error) : NULL;
      g_autoptr(JsonNode) scaling = pods != NULL ? kubectl_json (op, scaling_args, error) : NULL;

      if (scaling == NULL)
        {
          json_node_unref (node);
          return NULL;
        }
      json_object_set_array_member (root, "nodes", nodes_summary (nodes));
      json_object_set_array_member (root, "workloads", workloads_summary (workloads, pods, scaling));
    }
  else
    {
      json_object_set_array_member (root, "nodes", json_array_new ());
      json_object_set_array_member (root, "workloads", json_array_new ());
    }

  forwards = odd_cluster_forward_list (self, NULL);
  json_object_set_member (root, "forwards",
                          forwards != NULL
                          ? json_node_copy (json_object_get_member (json_node_get_object (forwards), "forwards"))
                          : json_node_init_array (json_node_alloc (), json_array_new ()));
  urls = json_object_new ();
  {
    g_autofree char *gateway = g_strdup_printf ("http://127.0.0.1:%u", self->gateway_port);
    g_autofree char *read_model = g_strdup_printf ("http://127.0.0.1:%u", self->read_model_port);

    json_object_set_string_member (urls, "gateway", gateway);
    json_object_set_string_member (urls, "readModel", read_model);
  }
  json_object_set_object_member (root, "urls", urls);

  op->fraction = 1.0;
  odd_cluster_op_report (op, ODD_PROGRESS_OK, "%s", exists ? "cluster found" : "no cluster");
  return node;
}

/* ------------------------------------------------------------------------------------ */
/* Tasks */

typedef enum
{
  OP_UP,
  OP_DOWN,
  OP_STATUS,
  OP_FORWARD_START,
} OpKind;

typedef struct
{
  OpKind        kind;
  OddClusterOp  op;
  char         *forward_name;
} TaskData;

static void
task_data_free (gpointer user_data)
{
  TaskData *data = user_data;

  g_clear_pointer (&data->op.context, g_main_context_unref);
  g_clear_object (&data->op.cancellable);
  g_free (data->forward_name);
  g_free (data);
}

static void
task_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OddCluster *self = source_object;
  TaskData *data = task_data;
  GError *error = NULL;

  switch (data->kind)
    {
    case OP_UP:
    case OP_DOWN:
      if ((data->kind == OP_UP ? up_run : down_run) (&data->op, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      break;

    case OP_STATUS:
    case OP_FORWARD_START:
      {
        JsonNode *node = data->kind == OP_STATUS
                         ? status_run (&data->op, &error)
                         : odd_cluster_forward_start_run (&data->op, data->forward_name, &error);

        if (node != NULL)
          g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
        else
          g_task_return_error (task, error);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  /* up and down are exclusive; status and forwards may run beside them. */
  if (data->kind == OP_UP || data->kind == OP_DOWN)
    g_atomic_int_set (&self->busy, 0);
}

static void
start_task (OddCluster          *self,
            OpKind               kind,
            const char          *forward_name,
            GCancellable        *cancellable,
            OddProgressFunc      progress,
            gpointer             progress_data,
            gpointer             source_tag,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  TaskData *data = g_new0 (TaskData, 1);

  g_task_set_source_tag (task, source_tag);
  data->kind = kind;
  data->forward_name = g_strdup (forward_name);
  data->op.cluster = self;
  data->op.func = progress;
  data->op.data = progress_data;
  data->op.context = g_main_context_ref_thread_default ();
  data->op.cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  data->op.step = "prepare";
  g_task_set_task_data (task, data, task_data_free);
  /* A cancelled task still reports its own error (what was stopped), not a generic one. */
  g_task_set_return_on_cancel (task, FALSE);

  odd_cluster_set_failure (self, NULL);
  if ((kind == OP_UP || kind == OP_DOWN) && !g_atomic_int_compare_and_exchange (&self->busy, 0, 1))
    {
      g_task_return_new_error (task, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID,
                               "Another cluster up or down is running");
      return;
    }

  g_task_run_in_thread (task, task_thread);
}

void
odd_cluster_up_async (OddCluster          *self,
                      GCancellable        *cancellable,
                      OddProgressFunc      progress,
                      gpointer             progress_data,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));

  start_task (self, OP_UP, NULL, cancellable, progress, progress_data, odd_cluster_up_async,
              callback, user_data);
}

gboolean
odd_cluster_up_finish (OddCluster    *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
odd_cluster_down_async (OddCluster          *self,
                        GCancellable        *cancellable,
                        OddProgressFunc      progress,
                        gpointer             progress_data,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));

  start_task (self, OP_DOWN, NULL, cancellable, progress, progress_data, odd_cluster_down_async,
              callback, user_data);
}

gboolean
odd_cluster_down_finish (OddCluster    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
odd_cluster_status_async (OddCluster          *self,
                          GCancellable        *cancellable,
                          OddProgressFunc      progress,
                          gpointer             progress_data,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));

  start_task (self, OP_STATUS, NULL, cancellable, progress, progress_data, odd_cluster_status_async,
              callback, user_data);
}

JsonNode *
odd_cluster_status_finish (OddCluster    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
odd_cluster_forward_start_async (OddCluster          *self,
                                 const char          *name,
                                 GCancellable        *cancellable,
                                 OddProgressFunc      progress,
                                 gpointer             progress_data,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (ODD_IS_CLUSTER (self));
  g_return_if_fail (name != NULL);

  start_task (self, OP_FORWARD_START, name, cancellable, progress, progress_data,
              odd_cluster_forward_start_async, callback, user_data);
}

JsonNode *
odd_cluster_forward_start_finish (OddCluster    *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
run_blocking (OddCluster       *self,
              OpKind            kind,
              GCancellable     *cancellable,
              OddProgressFunc   progress,
              gpointer          progress_data,
              GError          **error)
{
  OddClusterOp op = {
    .cluster = self, .func = progress, .data = progress_data, .context = NULL,
    .cancellable = cancellable, .step = "prepare",
  };
  gboolean ok;

  odd_cluster_set_failure (self, NULL);
  if (!g_atomic_int_compare_and_exchange (&self->busy, 0, 1))
    {
      g_set_error (error, ODD_CLUSTER_ERROR, ODD_CLUSTER_ERROR_INVALID,
                   "Another cluster up or down is running");
      return FALSE;
    }
  ok = (kind == OP_UP ? up_run : down_run) (&op, error);
  g_atomic_int_set (&self->busy, 0);

  return ok;
}

gboolean
odd_cluster_up (OddCluster       *self,
                GCancellable     *cancellable,
                OddProgressFunc   progress,
                gpointer          progress_data,
                GError          **error)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), FALSE);
  return run_blocking (self, OP_UP, cancellable, progress, progress_data, error);
}

gboolean
odd_cluster_down (OddCluster       *self,
                  GCancellable     *cancellable,
                  OddProgressFunc   progress,
                  gpointer          progress_data,
                  GError          **error)
{
  g_return_val_if_fail (ODD_IS_CLUSTER (self), FALSE);
  return run_blocking (self, OP_DOWN, cancellable, progress, progress_data, error);
}
