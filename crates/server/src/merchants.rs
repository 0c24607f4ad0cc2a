//! Registering merchants and their keys, and the development merchant `serve` creates on
//! an empty data directory (product.md).

use std::path::{Path, PathBuf};

use amzpay_api::ipn::check_endpoint_url;
use amzpay_domain::{Environment, Region, Timestamp};
use amzpay_signing::{generate_private_key, parse_public_key_pem, private_key_to_pem, public_key_to_pem};
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
            let file_name =
                key_file_name.map(str::to_owned).unwrap_or_else(|| format!("merchant-{merchant_id}-private-key.pem"));
            let path = key_dir.join(file_name);
            crate::files::write_private(&path, private_key_to_pem(&private).as_bytes())?;
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
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.insert_merchant(&merchant)?;
            tx.insert_key(&key)?;
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
            crate::files::write_private(&path, private_key_to_pem(&private).as_bytes())?;
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

/// Creates the development merchant on first start; afterwards reads its description.
pub async fn ensure_dev_merchant(
    store: &dyn Store,
    data_dir: &Path,
    now: Timestamp,
) -> Result<MerchantDescription, MerchantError> {
    let description_path = data_dir.join(DEV_MERCHANT_FILE);
    if let Ok(text) = std::fs::read_to_string(&description_path)
        && let Ok(description) = serde_json::from_str::<MerchantDescription>(&text)
    {
        return Ok(description);
    }
    let new = NewMerchant {
        region: Region::Na,
        public_key_pem: None,
        ipn_url: None,
        key_style: KeyStyle::Prefixed(Environment::Sandbox),
    };
    let description = create_merchant(store, data_dir, new, now, Some(DEV_MERCHANT_KEY_FILE)).await?;
    let json = serde_json::to_vec_pretty(&description).expect("serializing a description");
    std::fs::write(&description_path, json)?;
    Ok(description)
}
