//! Registering merchants and their keys, and the development merchant `serve` creates on
//! an empty data directory (product.md).

use std::path::{Path, PathBuf};

use amzpay_api::ipn::check_endpoint_url;
use amzpay_domain::{Environment, Region, Timestamp};
use amzpay_signing::{
    generate_private_key, parse_private_key_pem, parse_public_key_pem, private_key_to_pem, public_key_to_pem,
};
use amzpay_store::{KeyRecord, Store, StoreError, new_merchant};
use rand::Rng;
use serde::Serialize;

/// The description `serve` and `merchant create` write and print.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MerchantDescription {
    pub merchant_id: String,
    pub public_key_id: String,
    /// `None` when the merchant brought its own public key.
    pub private_key_file: Option<PathBuf>,
    pub region: String,
    pub store_id: String,
}

/// The development merchant's description, in the data directory.
pub const DEV_MERCHANT_FILE: &str = "dev-merchant.json";
pub const DEV_MERCHANT_KEY_FILE: &str = "dev-merchant-private-key.pem";

/// How a new key is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStyle {
    /// `SANDBOX-...` or `LIVE-...`: the key picks the environment.
    Prefixed(Environment),
    /// No prefix: works in both environments, the path picks one.
    Legacy,
}

pub struct NewMerchant {
    pub region: Region,
    pub public_key_pem: Option<String>,
    pub ipn_url: Option<String>,
    pub key_style: KeyStyle,
}

#[derive(Debug, thiserror::Error)]
pub enum MerchantError {
    #[error("{0}")]
    Key(#[from] amzpay_signing::KeyError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no merchant '{0}'")]
    UnknownMerchant(String),
    #[error("IPN URL: {0}")]
    IpnUrl(String),
    /// The data directory and the database disagree about the development merchant in a way
    /// that would cost a key to repair automatically: the message names the file and what
    /// to do.
    #[error("the data directory is inconsistent: {0}")]
    Inconsistent(String),
}

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn random_text(length: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..length).map(|_| char::from(ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())])).collect()
}

fn public_key_id(style: KeyStyle) -> String {
    match style {
        KeyStyle::Prefixed(Environment::Sandbox) => format!("SANDBOX-{}", random_text(24)),
        KeyStyle::Prefixed(Environment::Live) => format!("LIVE-{}", random_text(24)),
        KeyStyle::Legacy => format!("AMZPAY{}", random_text(18)),
    }
}

/// Registers a merchant with one key. Without a public key, generates a key pair and
/// writes the private key (mode 0600) into `key_dir`.
pub async fn create_merchant(
    store: &dyn Store,
    key_dir: &Path,
    new: NewMerchant,
    now: Timestamp,
    key_file_name: Option<&str>,
) -> Result<MerchantDescription, MerchantError> {
    register(store, key_dir, new, now, Role::Merchant { key_file_name }).await
}

/// What a merchant being registered is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role<'a> {
    /// `merchant create`: its key file is named after it unless a name is given.
    Merchant { key_file_name: Option<&'a str> },
    /// The development merchant: its key is `DEV_MERCHANT_KEY_FILE`, and the database
    /// records it as the development merchant in the same transaction.
    Development,
}

async fn register(
    store: &dyn Store,
    key_dir: &Path,
    new: NewMerchant,
    now: Timestamp,
    role: Role<'_>,
) -> Result<MerchantDescription, MerchantError> {
    if let Some(url) = &new.ipn_url {
        check_endpoint_url(url).map_err(|e| MerchantError::IpnUrl(e.message))?;
    }
    let merchant_id = format!("A{}", random_text(12));
    let store_id = format!("amzn1.application-oa2-client.{}", hex::encode(rand::random::<[u8; 16]>()));
    let (public_pem, private_key_file) = match new.public_key_pem {
        Some(pem) => (public_key_to_pem(&parse_public_key_pem(&pem)?), None),
        None => {
            let private = generate_private_key();
            std::fs::create_dir_all(key_dir)?;
            let file_name = match role {
                Role::Merchant { key_file_name: Some(name) } => name.to_owned(),
                Role::Merchant { key_file_name: None } => format!("merchant-{merchant_id}-private-key.pem"),
                Role::Development => DEV_MERCHANT_KEY_FILE.to_owned(),
            };
            let path = key_dir.join(file_name);
            // Durable before the merchant is committed: a committed key always has its file.
            // Never over an existing file: that could be the only copy of another key.
            crate::files::write_new_private(&path, private_key_to_pem(&private).as_bytes())?;
            (public_key_to_pem(&private.public_key()), Some(std::path::absolute(&path).unwrap_or(path)))
        }
    };
    let key = KeyRecord {
        public_key_id: public_key_id(new.key_style),
        merchant_id: merchant_id.clone(),
        environment: match new.key_style {
            KeyStyle::Prefixed(environment) => Some(environment),
            KeyStyle::Legacy => None,
        },
        public_key_pem: public_pem,
        created_at: now,
    };
    let merchant = new_merchant(&merchant_id, new.region, &store_id, now);
    let public_key_id = key.public_key_id.clone();
    let ipn_url = new.ipn_url;
    let development = role == Role::Development;
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.insert_merchant(&merchant)?;
            tx.insert_key(&key)?;
            if development {
                tx.set_development_merchant(&merchant.merchant_id, &key.public_key_id)?;
            }
            // product.md: `--ipn-url` sets the endpoint of both environments.
            for environment in [Environment::Sandbox, Environment::Live] {
                if let Some(url) = &ipn_url {
                    tx.set_ipn_endpoint(&merchant.merchant_id, environment, Some(url))?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(MerchantDescription {
        merchant_id,
        public_key_id,
        private_key_file,
        region: new.region.code().to_owned(),
        store_id,
    })
}

/// Sets (or, with `None`, clears) a merchant's IPN endpoint in one environment or, with
/// `environment` `None`, in both. Takes effect at the next delivery, also while servers run.
pub async fn set_ipn_url(
    store: &dyn Store,
    merchant_id: &str,
    environment: Option<Environment>,
    url: Option<String>,
) -> Result<(), MerchantError> {
    if let Some(url) = &url {
        check_endpoint_url(url).map_err(|e| MerchantError::IpnUrl(e.message))?;
    }
    let id = merchant_id.to_owned();
    let environments = match environment {
        Some(one) => vec![one],
        None => vec![Environment::Sandbox, Environment::Live],
    };
    let found = store
        .write(move |tx| -> Result<bool, StoreError> {
            if tx.merchant(&id)?.is_none() {
                return Ok(false);
            }
            for environment in environments {
                tx.set_ipn_endpoint(&id, environment, url.as_deref())?;
            }
            Ok(true)
        })
        .await?;
    if found { Ok(()) } else { Err(MerchantError::UnknownMerchant(merchant_id.to_owned())) }
}

/// Gives an existing merchant another key (e.g. a `LIVE-` key beside its `SANDBOX-` one).
/// Without a public key, generates a key pair and writes the private key into `key_dir`.
pub async fn add_key(
    store: &dyn Store,
    key_dir: &Path,
    merchant_id: &str,
    key_style: KeyStyle,
    public_key_pem: Option<String>,
    now: Timestamp,
) -> Result<MerchantDescription, MerchantError> {
    let id = merchant_id.to_owned();
    let merchant = store
        .read(move |tx| tx.merchant(&id))
        .await?
        .ok_or_else(|| MerchantError::UnknownMerchant(merchant_id.to_owned()))?;
    let public_key_id = public_key_id(key_style);
    let (public_pem, private_key_file) = match public_key_pem {
        Some(pem) => (public_key_to_pem(&parse_public_key_pem(&pem)?), None),
        None => {
            let private = generate_private_key();
            std::fs::create_dir_all(key_dir)?;
            let path = key_dir.join(format!("key-{public_key_id}-private-key.pem"));
            crate::files::write_new_private(&path, private_key_to_pem(&private).as_bytes())?;
            (public_key_to_pem(&private.public_key()), Some(std::path::absolute(&path).unwrap_or(path)))
        }
    };
    let key = KeyRecord {
        public_key_id: public_key_id.clone(),
        merchant_id: merchant.merchant_id.clone(),
        environment: match key_style {
            KeyStyle::Prefixed(environment) => Some(environment),
            KeyStyle::Legacy => None,
        },
        public_key_pem: public_pem,
        created_at: now,
    };
    store.write(move |tx| tx.insert_key(&key)).await?;
    Ok(MerchantDescription {
        merchant_id: merchant.merchant_id,
        public_key_id,
        private_key_file,
        region: merchant.region.code().to_owned(),
        store_id: merchant.store_id,
    })
}

/// What a file of the data directory holds, as read at start.
enum Found<T> {
    Missing,
    /// Present but not readable as what it should be (truncated, edited, another format).
    Unreadable(String),
    Read(T),
}

fn read_file<T>(path: &Path, parse: impl FnOnce(&str) -> Result<T, String>) -> Found<T> {
    match std::fs::read_to_string(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Found::Missing,
        Err(error) => Found::Unreadable(error.to_string()),
        Ok(text) => match parse(&text) {
            Ok(value) => Found::Read(value),
            Err(error) => Found::Unreadable(error),
        },
    }
}

/// The development merchant as the database records it.
struct Recorded {
    merchant: amzpay_store::MerchantRecord,
    key: KeyRecord,
}

/// Creates the development merchant on first start; afterwards checks that the data
/// directory still holds its key and reads its description.
///
/// Recovery: the database says which merchant and key are the development merchant's, so
/// a `dev-merchant.json` that is missing, truncated or unreadable is rewritten from the
/// database as long as the private key file is there and matches the key the database
/// holds. Every state that could only be "repaired" by losing or ignoring a key (the key
/// file missing, unreadable or not matching; a key file the database cannot place) refuses
/// to start with [`MerchantError::Inconsistent`], naming the file and what to do. Nothing
/// here ever overwrites a key file.
///
/// `shared` (PostgreSQL, several nodes on one database): a node whose data directory has
/// neither file, on a database whose development merchant another node made, starts with
/// that merchant's description and no key file (the key stays with the node that made it).
pub async fn ensure_dev_merchant(
    store: &dyn Store,
    data_dir: &Path,
    now: Timestamp,
    shared: bool,
) -> Result<MerchantDescription, MerchantError> {
    let description_path = data_dir.join(DEV_MERCHANT_FILE);
    let key_path = data_dir.join(DEV_MERCHANT_KEY_FILE);
    let description = read_file(&description_path, |text| {
        serde_json::from_str::<MerchantDescription>(text).map_err(|e| e.to_string())
    });
    let public_key = read_file(&key_path, |text| {
        parse_private_key_pem(text).map(|key| public_key_to_pem(&key.public_key())).map_err(|e| e.to_string())
    });
    let recorded = store
        .read(|tx| -> Result<Option<Recorded>, StoreError> {
            let Some((merchant_id, public_key_id)) = tx.development_merchant()? else { return Ok(None) };
            let merchant = tx.merchant(&merchant_id)?;
            let key = tx.key(&public_key_id)?;
            match (merchant, key) {
                (Some(merchant), Some(key)) => Ok(Some(Recorded { merchant, key })),
                _ => Err(StoreError::Corrupt(format!("the development merchant {merchant_id} or its key is missing"))),
            }
        })
        .await?;
    let recorded = match (recorded, description) {
        (Some(recorded), description) => (recorded, description),
        // A database from before it recorded the development merchant: the description
        // names it.
        (None, Found::Read(description)) => {
            let (merchant_id, key_id) = (description.merchant_id.clone(), description.public_key_id.clone());
            let found = store
                .read(move |tx| -> Result<_, StoreError> { Ok((tx.merchant(&merchant_id)?, tx.key(&key_id)?)) })
                .await?;
            let (Some(merchant), Some(key)) = found else {
                return Err(inconsistent(format!(
                    "{} names merchant {} (key {}), which the database does not hold. If the database was \
                     replaced on purpose, move {} and {} out of the data directory to create a new development \
                     merchant; otherwise restore the database.",
                    description_path.display(),
                    description.merchant_id,
                    description.public_key_id,
                    DEV_MERCHANT_FILE,
                    DEV_MERCHANT_KEY_FILE,
                )));
            };
            let recorded = Recorded { merchant, key };
            check_key_file(&recorded, &key_path, public_key)?;
            let (merchant_id, key_id) = (recorded.merchant.merchant_id.clone(), recorded.key.public_key_id.clone());
            store.write(move |tx| tx.set_development_merchant(&merchant_id, &key_id)).await?;
            return Ok(description);
        }
        (None, description) => {
            if !matches!(public_key, Found::Missing) {
                return Err(inconsistent(format!(
                    "{} exists, but the database records no development merchant and {} is {}: nothing says \
                     which merchant the key belongs to. Restore {} from a backup; or, if the key is not needed \
                     (a first start that was interrupted), move it out of the data directory to create a new \
                     development merchant.",
                    key_path.display(),
                    DEV_MERCHANT_FILE,
                    match &description {
                        Found::Missing => "missing".to_owned(),
                        Found::Unreadable(error) => format!("unreadable ({error})"),
                        Found::Read(_) => unreachable!("a readable description was handled above"),
                    },
                    DEV_MERCHANT_FILE,
                )));
            }
            if let Found::Unreadable(error) = &description {
                // No key to lose: what the description named cannot be used without one.
                tracing::warn!(file = %description_path.display(), %error, "replacing an unreadable description that has no key file");
            }
            let new = NewMerchant {
                region: Region::Na,
                public_key_pem: None,
                ipn_url: None,
                key_style: KeyStyle::Prefixed(Environment::Sandbox),
            };
            let description = match register(store, data_dir, new, now, Role::Development).await {
                Err(MerchantError::Store(StoreError::IdTaken(_))) if shared => {
                    // Another node starting on the same empty database recorded its
                    // development merchant first. Ours never committed: the key file just
                    // written (there was none before) is nobody's. Take the other's.
                    std::fs::remove_file(&key_path)?;
                    return Box::pin(ensure_dev_merchant(store, data_dir, now, shared)).await;
                }
                registered => registered?,
            };
            write_description(&description_path, &description)?;
            return Ok(description);
        }
    };
    let (recorded, description) = recorded;
    if shared && matches!((&description, &public_key), (Found::Missing, Found::Missing)) {
        // Another node of a shared database made the development merchant: its key is in
        // that node's data directory, and this one has nothing of it to lose or rebuild.
        return Ok(MerchantDescription {
            merchant_id: recorded.merchant.merchant_id.clone(),
            public_key_id: recorded.key.public_key_id.clone(),
            private_key_file: None,
            region: recorded.merchant.region.code().to_owned(),
            store_id: recorded.merchant.store_id.clone(),
        });
    }
    check_key_file(&recorded, &key_path, public_key)?;
    if let Found::Read(description) = &description
        && description.merchant_id == recorded.merchant.merchant_id
        && description.public_key_id == recorded.key.public_key_id
    {
        return Ok(description.clone());
    }
    // The key is there and matches: the description can be rebuilt exactly.
    let rebuilt = MerchantDescription {
        merchant_id: recorded.merchant.merchant_id.clone(),
        public_key_id: recorded.key.public_key_id.clone(),
        private_key_file: Some(std::path::absolute(&key_path).unwrap_or(key_path)),
        region: recorded.merchant.region.code().to_owned(),
        store_id: recorded.merchant.store_id.clone(),
    };
    tracing::warn!(
        file = %description_path.display(),
        merchant_id = %rebuilt.merchant_id,
        "the development merchant's description was missing or did not match the database; rewrote it from the database"
    );
    write_description(&description_path, &rebuilt)?;
    Ok(rebuilt)
}

/// The development merchant's key file must be there and hold the private half of the key
/// the database has for it.
fn check_key_file(recorded: &Recorded, key_path: &Path, public_key: Found<String>) -> Result<(), MerchantError> {
    let restore = format!(
        "Restore it from a backup; or, to give up merchant {} and create a new development merchant, move {}, \
         {} and the database out of the data directory.",
        recorded.merchant.merchant_id, DEV_MERCHANT_FILE, DEV_MERCHANT_KEY_FILE
    );
    match public_key {
        Found::Read(pem) if pem == recorded.key.public_key_pem => Ok(()),
        Found::Read(_) => Err(inconsistent(format!(
            "{} does not match key {} of the development merchant {} in the database. {restore}",
            key_path.display(),
            recorded.key.public_key_id,
            recorded.merchant.merchant_id
        ))),
        Found::Missing => Err(inconsistent(format!(
            "{} is missing, but the database holds the development merchant {} (key {}). {restore}",
            key_path.display(),
            recorded.merchant.merchant_id,
            recorded.key.public_key_id
        ))),
        Found::Unreadable(error) => Err(inconsistent(format!(
            "{} is not a readable private key ({error}); the database holds the development merchant {} (key {}). \
             {restore}",
            key_path.display(),
            recorded.merchant.merchant_id,
            recorded.key.public_key_id
        ))),
    }
}

fn inconsistent(message: String) -> MerchantError {
    MerchantError::Inconsistent(message)
}

fn write_description(path: &Path, description: &MerchantDescription) -> Result<(), MerchantError> {
    let json = serde_json::to_vec_pretty(description).expect("serializing a description");
    crate::files::write_atomic(path, &json, crate::files::Readers::Everyone, crate::files::Existing::Replace)?;
    Ok(())
}
