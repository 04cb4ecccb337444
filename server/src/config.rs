//! Command line and environment: every setting is a flag and a `KEYPORT_*` variable.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "keyport",
    version,
    about = "Keyport: a self-hosted developer portal and OAuth 2.0 authorization server",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Database: `sqlite://PATH` (created when missing) or `postgres://USER@HOST:PORT/DB`.
    #[arg(
        long,
        env = "KEYPORT_DATABASE_URL",
        default_value = "sqlite://data/keyport.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,

    /// Log line format on standard error.
    #[arg(long, env = "KEYPORT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` directive syntax (`info`, `keyport=debug,sqlx=warn`, …).
    #[arg(long, env = "KEYPORT_LOG", default_value = "info", global = true)]
    pub log_level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal, the OAuth endpoints and the management API on one port.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage portal users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth clients (apps).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Copy a SQLite database into a new file while servers keep using it, and print
    /// `{"to","bytes"}`. The master key is not in the copy: back it up too. For PostgreSQL use
    /// `pg_dump -Fc`.
    Backup(BackupArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The file to write; it must not exist yet, and its directory must.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new signing key and publish it in the JWKS at once; it starts signing after
    /// --lead-secs, when the current key retires. A retired key stays published until every
    /// token it signed has expired.
    Rotate(KeysRotateArgs),
    /// Seal every stored key under a new master key, in one transaction, and print
    /// `{"values","master_key_id","previous_master_key_id"}`. Every instance must then be
    /// started with the new key.
    Rewrap(KeysRewrapArgs),
    /// Take a retired signing key out of the JWKS at once (a leaked key), rather than when
    /// the tokens it signed have expired, and print `{"kid","was_published"}`. A key that
    /// signs or is about to is refused: `keys rotate --lead-secs 0` first.
    Withdraw(KeysWithdrawArgs),
}

#[derive(Debug, Clone, Args)]
pub struct KeysWithdrawArgs {
    /// The key's `kid`, as the JWKS and token headers name it.
    pub kid: String,
}

#[derive(Debug, Clone, Args)]
pub struct KeysRewrapArgs {
    /// File holding the new master key (base64 of 32 bytes); generated there (mode 0600)
    /// when it does not exist.
    #[arg(long, value_name = "FILE")]
    pub new_master_key_file: PathBuf,
    #[command(flatten)]
    pub master_key: MasterKeyArgs,
}

/// The master key that seals the signing keys and the secret-hash key at rest.
#[derive(Clone, Args)]
pub struct MasterKeyArgs {
    /// File holding the master key (base64 of 32 bytes) that seals the stored keys
    /// [default: on SQLite, a 0600 file beside the database, generated on first start, e.g.
    /// data/keyport.master-key; PostgreSQL must set it].
    #[arg(long, env = "KEYPORT_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The master key itself (base64 of 32 bytes), instead of --master-key-file; as a flag it
    /// shows in the process list, so prefer the variable or the file.
    #[arg(
        long,
        env = "KEYPORT_MASTER_KEY",
        hide_env_values = true,
        value_name = "BASE64"
    )]
    pub master_key: Option<String>,
}

impl std::fmt::Debug for MasterKeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeyArgs")
            .field("master_key_file", &self.master_key_file)
            .field("master_key", &self.master_key.as_ref().map(|_| "…"))
            .finish()
    }
}

impl MasterKeyArgs {
    /// Where the key for `database_url` comes from; both ways at once is a mistake, not a
    /// choice between them, and PostgreSQL needs one.
    pub fn source(&self, database_url: &str) -> Result<crate::master_key::MasterKeySource, String> {
        use crate::master_key::MasterKeySource;
        let source = match (&self.master_key_file, &self.master_key) {
            (Some(_), Some(_)) => {
                return Err("set either KEYPORT_MASTER_KEY_FILE (--master-key-file) or \
                     KEYPORT_MASTER_KEY (--master-key), not both"
                    .into());
            }
            (Some(path), None) => MasterKeySource::File(path.clone()),
            (None, Some(key)) => MasterKeySource::Value(key.clone()),
            (None, None) => MasterKeySource::Default,
        };
        source.check(database_url).map_err(|e| e.to_string())?;
        Ok(source)
    }
}

#[derive(Debug, Clone, Args)]
pub struct KeysRotateArgs {
    /// Seconds between publishing the new key and signing with it, so relying parties that
    /// cache the JWKS (for up to 60 s) see it first.
    #[arg(long, default_value_t = app::services::key_rotation::LEAD_SECS,
          value_parser = clap::value_parser!(i64).range(0..=86_400))]
    pub lead_secs: i64,
    /// Algorithm of the new key [default: the current key's].
    #[arg(long, env = "KEYPORT_SIGNING_ALG", value_enum)]
    pub signing_alg: Option<SigningAlg>,
    #[command(flatten)]
    pub master_key: MasterKeyArgs,
}

/// The JWS algorithm of new signing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SigningAlg {
    #[value(name = "ES256")]
    Es256,
    #[value(name = "EdDSA")]
    EdDsa,
    #[value(name = "RS256")]
    Rs256,
}

impl SigningAlg {
    pub fn alg(self) -> app::domain::jwt::Alg {
        use app::domain::jwt::Alg;
        match self {
            SigningAlg::Es256 => Alg::Es256,
            SigningAlg::EdDsa => Alg::EdDsa,
            SigningAlg::Rs256 => Alg::Rs256,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a confidential app in an existing tenant (or a new one with --create-tenant)
    /// and print `{"tenant_id","client_id","client_secret"}` (the secret is shown this once).
    Create(ClientCreateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ClientCreateArgs {
    /// Tenant id or name; a tenant that does not exist is an error unless --create-tenant.
    #[arg(long)]
    pub tenant: String,
    /// Create a tenant named --tenant when no tenant has that id or name.
    #[arg(long)]
    pub create_tenant: bool,
    /// The app's name.
    #[arg(long)]
    pub name: String,
    /// A tool client: its tokens act for the tenant with the app's roles.
    #[arg(long)]
    pub tool: bool,
    /// A role to grant (repeatable); `admin` on a tool client allows the management API.
    #[arg(long = "role")]
    pub roles: Vec<String>,
    /// A scope the app may request (repeatable).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// The app's one callback (redirect) URL, checked as in the portal: `https`, `http` only
    /// on localhost or a loopback address, or a private-use scheme (`com.example.app:/cb`).
    /// With it the app may also sign people in: it gets the authorization_code and
    /// refresh_token grants besides client_credentials.
    #[arg(long, value_name = "URL", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub callback_url: Option<String>,
    /// Key for hashing client secrets; must match the server's.
    #[arg(long, env = "KEYPORT_SECRET_HASH_KEY", hide_env_values = true)]
    pub secret_hash_key: Option<String>,
    #[command(flatten)]
    pub master_key: MasterKeyArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    ///
    /// Without --tenant the user gets a tenant of their own, as at sign-up. With it they join
    /// that tenant (by id or name; created when missing), as admin with --admin.
    Create(UserCreateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UserCreateArgs {
    /// Email address to sign in with.
    #[arg(long)]
    pub email: String,
    /// Display name [default: the email's local part].
    #[arg(long)]
    pub name: Option<String>,
    /// Tenant id or name to join instead of getting a tenant of one's own.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Join --tenant as admin rather than developer.
    #[arg(long, requires = "tenant")]
    pub admin: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "KEYPORT_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Serve `/metrics` (Prometheus) on this address and port only, not on the main one; set
    /// it (or block `/metrics` at the proxy) when the main port faces the internet
    /// [default: `/metrics` on the main port].
    #[arg(long, env = "KEYPORT_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Public base URL of this server; each tenant's issuer is `{public URL}/t/{tenant id}`
    /// [default: http://<addr>; KEYPORT_ISSUER is accepted as its older name].
    #[arg(long, alias = "issuer", env = "KEYPORT_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Key (base64 of 32 bytes) for hashing client secrets [default: generated once, stored
    /// in the database sealed under the master key].
    #[arg(long, env = "KEYPORT_SECRET_HASH_KEY", hide_env_values = true)]
    pub secret_hash_key: Option<String>,

    #[command(flatten)]
    pub master_key: MasterKeyArgs,

    /// Algorithm of the signing key created on a fresh database and of those automatic
    /// rotation makes [default: ES256 on a fresh database; after that, the current key's].
    #[arg(long, env = "KEYPORT_SIGNING_ALG", value_enum)]
    pub signing_alg: Option<SigningAlg>,

    /// Reverse proxies (comma-separated CIDRs or addresses) whose `Forwarded` /
    /// `X-Forwarded-For` header names the client's address for rate limits and audit
    /// events; from any other peer those headers are ignored [default: none].
    #[arg(
        long,
        env = "KEYPORT_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = crate::http::client_address::parse_network
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// The header the trusted proxies write the client's address into; the other is ignored,
    /// since a proxy passes it through as the client sent it.
    #[arg(
        long,
        env = "KEYPORT_FORWARDED_HEADER",
        value_enum,
        default_value = "x-forwarded-for"
    )]
    pub forwarded_header: crate::http::client_address::ForwardedHeader,

    /// Days a refresh token lives unused; each use starts the count again.
    #[arg(long, env = "KEYPORT_REFRESH_IDLE_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub refresh_idle_days: u32,

    /// Days a refresh token family lives in all, from the sign-in that started it; then the
    /// person signs in again.
    #[arg(long, env = "KEYPORT_REFRESH_ABSOLUTE_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub refresh_absolute_days: u32,

    /// Days a signing key signs before the server replaces it by itself (published at once,
    /// signing 120 s later, as `keys rotate` does); 0 turns automatic rotation off.
    #[arg(long, env = "KEYPORT_KEY_ROTATION_DAYS",
          default_value_t = app::domain::key_rotation::RotationPolicy::DEFAULT_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub key_rotation_days: u32,

    /// Serve the portal's assets from this directory (as `cargo leptos build --split` writes
    /// `target/site`) instead of those built into the binary.
    #[arg(long, env = "KEYPORT_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
}

impl ServeArgs {
    /// `--public-url` / `KEYPORT_PUBLIC_URL`, else the older name `KEYPORT_ISSUER`, which
    /// deployments made before per-tenant issuers still set.
    pub fn public_url_or_older_name(&self) -> Result<Option<String>, String> {
        if self.public_url.is_some() {
            return Ok(self.public_url.clone());
        }
        match std::env::var("KEYPORT_ISSUER") {
            Ok(value) if !value.is_empty() => parse_public_url(&value)
                .map(Some)
                .map_err(|e| format!("KEYPORT_ISSUER {e}")),
            _ => Ok(None),
        }
    }
}

impl Cli {
    /// Parses the process arguments; without a subcommand this is `keyport serve`, so tools
    /// that start the binary bare (cargo-leptos) still get a server with its usual settings.
    /// Help and version print as usual; a usage error is one line on standard error (status 2).
    pub fn from_env() -> Cli {
        let cli = Cli::parse_args(std::env::args_os()).unwrap_or_else(|e| exit_on(e));
        if cli.command.is_some() {
            return cli;
        }
        Cli::parse_args(std::env::args_os().chain([std::ffi::OsString::from("serve")]))
            .unwrap_or_else(|e| exit_on(e))
    }

    fn parse_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Cli, clap::Error> {
        let matches = Cli::command_listing_serve_settings().try_get_matches_from(args)?;
        Cli::from_arg_matches(&matches)
    }

    /// The command line, whose top-level help also lists `serve`'s settings: bare `keyport`
    /// serves, so `keyport --help` shows every setting it can be given (generated from
    /// [`ServeArgs`], so the two cannot drift apart).
    pub fn command_listing_serve_settings() -> clap::Command {
        let serve = ServeArgs::augment_args(clap::Command::new("serve"));
        let mut text = String::from("Settings of `keyport serve`, the default command:\n");
        for arg in serve.get_arguments().filter(|a| !a.is_hide_set()) {
            let Some(long) = arg.get_long() else {
                continue;
            };
            text.push_str(&format!("  --{long}"));
            if let Some(env) = arg.get_env() {
                text.push_str(&format!(" [env: {}]", env.to_string_lossy()));
            }
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            if !defaults.is_empty() {
                text.push_str(&format!(" [default: {}]", defaults.join(", ")));
            }
            if let Some(help) = arg.get_help() {
                text.push_str(&format!("\n          {help}"));
            }
            text.push('\n');
        }
        Cli::command().after_help(text)
    }
}

/// Ends the process for a parse that did not give a command: help and version as clap prints
/// them; anything else as one line, the house rule for bad input on the command line.
fn exit_on(error: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit()
    }
    eprintln!(
        "keyport: {} (see --help)",
        one_line(&error.render().to_string())
    );
    std::process::exit(2)
}

/// clap's message without its `error:` label, usage block and hints, on one line.
fn one_line(rendered: &str) -> String {
    let message = rendered.split("\n\n").next().unwrap_or(rendered);
    let message = message.trim().trim_start_matches("error:").trim();
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The public URL is an absolute http(s) URL without query or fragment, as issuers derived
/// from it must be (RFC 8414 §2); a trailing slash is dropped so `iss` claims compare equal
/// however it was typed.
pub fn parse_public_url(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("must name a host".into());
    }
    if value.contains(['?', '#']) {
        return Err("must not contain a query or fragment".into());
    }
    if value.contains(char::is_whitespace) {
        return Err("must not contain spaces".into());
    }
    Ok(value.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn public_url_rules() {
        assert_eq!(
            parse_public_url("https://id.example.com/").unwrap(),
            "https://id.example.com"
        );
        assert_eq!(
            parse_public_url("http://127.0.0.1:3000").unwrap(),
            "http://127.0.0.1:3000"
        );
        assert!(parse_public_url("id.example.com").is_err());
        assert!(parse_public_url("https://").is_err());
        assert!(parse_public_url("https://x.example/?a=b").is_err());
        assert!(parse_public_url("https://x.example/#top").is_err());
        assert!(parse_public_url("ftp://x.example").is_err());
    }

    #[test]
    fn serve_defaults() {
        let cli = Cli::try_parse_from(["keyport", "serve"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve expected")
        };
        assert_eq!(args.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(
            args.site_root, None,
            "the built-in assets unless a directory is named"
        );
        assert_eq!(args.key_rotation_days, 90);
    }

    #[test]
    fn key_rotation_days_takes_zero_to_turn_it_off_and_refuses_nonsense() {
        let days = |value: &str| {
            Cli::try_parse_from(["keyport", "serve", "--key-rotation-days", value]).map(|cli| {
                match cli.command {
                    Some(Command::Serve(args)) => args.key_rotation_days,
                    _ => panic!("serve expected"),
                }
            })
        };
        assert_eq!(days("0").unwrap(), 0);
        assert_eq!(days("30").unwrap(), 30);
        assert!(days("-1").is_err());
        assert!(days("3651").is_err());
        assert!(days("soon").is_err());
    }
}
