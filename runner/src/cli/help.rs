//! The help text and the version line (both go to stdout).
pub const VERSION: &str = concat!("tailscale-manager ", env!("CARGO_PKG_VERSION"));

pub const HELP: &str = "\
Usage: tailscale-manager <command> [options]

Runs the Terraform configuration rendered by the tailscale-manager NixOS module.

Commands:
  init                   install the config, terraform init
  plan                   install the config, init if needed, terraform plan
                         (exit 0 whether or not changes are pending)
  apply                  lock, back up, install config, init if needed, terraform apply,
                         restore on failure, write last-apply.json
  destroy                lock, back up, terraform destroy, restore on failure,
                         write last-apply.json
  status                 human dashboard (reads files only)
  status --json          JSON for scripts and monitoring
  status --waybar        one line for a waybar custom module (return-type json)
  status --prometheus    node_exporter textfile format
  status --oneline       one line: tailscale-manager: last apply [ok|error|none]
  backup-state           back up terraform.tfstate now, then prune
  restore-state [FILE]   back up the current state, then restore the newest backup (or FILE)
  restore-state --force [FILE]
                         with a remote backend: push even over another lineage or a newer
                         serial (terraform state push -force)
  version                print the version (also --version)
  help                   print this help (also --help)

Options (before or after the command; a flag beats its environment variable):
  --state-dir DIR         TAILSCALE_MANAGER_STATE_DIR        default /var/lib/tailscale-manager
  --config FILE           TAILSCALE_MANAGER_CONFIG           rendered main.tf.json to install
                                                             (required by init, plan, apply)
  --terraform PATH        TAILSCALE_MANAGER_TERRAFORM_BIN    default: terraform on PATH
  --backup-count N        TAILSCALE_MANAGER_BACKUP_COUNT     default 5, 1..=1000
  --credentials FILE      TAILSCALE_MANAGER_CREDENTIALS_FILE KEY=VALUE file with
                                                             TAILSCALE_OAUTH_CLIENT_ID/SECRET
  --on-failure restore|keep
                          TAILSCALE_MANAGER_ON_FAILURE       default restore; a remote
                                                             backend needs keep
  --lock-timeout SECONDS  TAILSCALE_MANAGER_LOCK_TIMEOUT     default 300
  --expiry-warning DAYS   TAILSCALE_MANAGER_EXPIRY_WARNING_DAYS
                                                             status marks device node keys
                                                             expiring within DAYS, default 14
  --workspace NAME        TAILSCALE_MANAGER_WORKSPACE        remote backend: terraform workspace,
                                                             default default
  --pg-connection-file FILE
                          TAILSCALE_MANAGER_PG_CONNECTION_FILE
                                                             pg backend: libpq connection string

Credentials (plan, apply, destroy): the --credentials file, else
$CREDENTIALS_DIRECTORY/tailscale-oauth (systemd LoadCredential), else the environment
variables TAILSCALE_OAUTH_CLIENT_ID and TAILSCALE_OAUTH_CLIENT_SECRET.
With a pg backend (terraform.backend.pg in the config), every command that runs terraform
needs the connection string: the --pg-connection-file file, else
$CREDENTIALS_DIRECTORY/pg-conn-str; terraform gets it as PG_CONN_STR.

Exit codes:
  0  success (status, status --json: the last apply/destroy succeeded;
     --waybar, --prometheus, --oneline: the payload was printed)
  1  the operation failed (terraform error, lock timeout, unreadable state;
     status, status --json: the last result is an error, missing or unreadable)
  2  usage or configuration error
  141  status, help, version: the reader of stdout went away (`| head`)
";
