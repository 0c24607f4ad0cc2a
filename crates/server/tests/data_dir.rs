//! The data directory survives a crash: a damaged `dev-merchant.json` never costs the
//! development merchant's key, and a start that could only go on by losing or ignoring a
//! key refuses with a message naming the file and what to do.

use std::path::{Path, PathBuf};

use amzpay_server::merchants::{DEV_MERCHANT_FILE, DEV_MERCHANT_KEY_FILE, MerchantDescription};
use amzpay_server::{Application, Config};

fn config(data_dir: &Path) -> Config {
    let mut config = Config::with_defaults();
    config.data_dir = data_dir.to_owned();
    config.listen = None;
    config.tls_listen = None;
    config
}

/// Starts (opens the store, ensures the development merchant) and stops again.
async fn start(data_dir: &Path) -> Result<MerchantDescription, String> {
    match Application::build(config(data_dir)).await {
        Ok(app) => Ok(app.dev_merchant.clone()),
        Err(error) => Err(error.to_string()),
    }
}

struct Files {
    description: PathBuf,
    key: PathBuf,
}

fn files(data_dir: &Path) -> Files {
    Files { description: data_dir.join(DEV_MERCHANT_FILE), key: data_dir.join(DEV_MERCHANT_KEY_FILE) }
}

#[tokio::test]
async fn a_truncated_missing_or_garbled_description_is_rebuilt_and_the_key_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let files = files(dir.path());
    let first = start(dir.path()).await.unwrap();
    let key_bytes = std::fs::read(&files.key).unwrap();
    let description_bytes = std::fs::read(&files.description).unwrap();
    let damages: [(&str, &Damage); 4] = [
        ("truncated to half", &|path| {
            let bytes = std::fs::read(path).unwrap();
            std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
        }),
        ("truncated to nothing", &|path| std::fs::write(path, b"").unwrap()),
        ("missing", &|path| std::fs::remove_file(path).unwrap()),
        ("naming another merchant", &|path| {
            let text = std::fs::read_to_string(path).unwrap();
            std::fs::write(path, text.replace(&first_id(path), "AOTHERMERCHANT")).unwrap();
        }),
    ];
    for (damage, apply) in damages {
        apply(&files.description);
        let again = start(dir.path()).await.unwrap_or_else(|e| panic!("{damage}: {e}"));
        assert_eq!(again, first, "{damage}: the same merchant");
        assert_eq!(std::fs::read(&files.key).unwrap(), key_bytes, "{damage}: the key file is unchanged");
        assert_eq!(std::fs::read(&files.description).unwrap(), description_bytes, "{damage}: rebuilt exactly");
    }
    assert_eq!(leftovers(dir.path()), Vec::<String>::new(), "no temporary file is left behind");
}

/// Something that happens to a file between two starts.
type Damage = dyn Fn(&Path);

fn first_id(description: &Path) -> String {
    let description: MerchantDescription =
        serde_json::from_str(&std::fs::read_to_string(description).unwrap()).unwrap();
    description.merchant_id
}

/// Temporary files of an atomic write.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

#[tokio::test]
async fn a_missing_key_file_refuses_to_start_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let files = files(dir.path());
    let first = start(dir.path()).await.unwrap();
    let description_bytes = std::fs::read(&files.description).unwrap();
    std::fs::remove_file(&files.key).unwrap();
    let refused = start(dir.path()).await.unwrap_err();
    assert!(refused.contains(DEV_MERCHANT_KEY_FILE), "{refused}");
    assert!(refused.contains("is missing"), "{refused}");
    assert!(refused.contains(&first.merchant_id), "{refused}");
    assert!(refused.contains("Restore it from a backup"), "{refused}");
    // Refused means untouched: no new key, the description as it was.
    assert!(!files.key.exists());
    assert_eq!(std::fs::read(&files.description).unwrap(), description_bytes);
}

#[tokio::test]
async fn a_key_file_that_is_not_the_merchants_key_refuses_and_stays_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let files = files(dir.path());
    start(dir.path()).await.unwrap();
    for (what, contents) in [
        ("another key", amzpay_signing::private_key_to_pem(&amzpay_signing::generate_private_key()).into_bytes()),
        ("a truncated key", std::fs::read(&files.key).unwrap()[..100].to_vec()),
    ] {
        std::fs::write(&files.key, &contents).unwrap();
        let refused = start(dir.path()).await.unwrap_err();
        assert!(refused.contains(DEV_MERCHANT_KEY_FILE), "{what}: {refused}");
        assert_eq!(std::fs::read(&files.key).unwrap(), contents, "{what}: the key file is untouched");
    }
}

#[tokio::test]
async fn a_key_file_the_database_cannot_place_refuses_instead_of_being_replaced() {
    // A first start interrupted after the key was written and before the merchant was
    // committed, or a key copied in by hand: no database record, no description.
    let dir = tempfile::tempdir().unwrap();
    let files = files(dir.path());
    let stray = amzpay_signing::private_key_to_pem(&amzpay_signing::generate_private_key());
    std::fs::write(&files.key, &stray).unwrap();
    let refused = start(dir.path()).await.unwrap_err();
    assert!(refused.contains(DEV_MERCHANT_KEY_FILE) && refused.contains("move it out"), "{refused}");
    assert_eq!(std::fs::read_to_string(&files.key).unwrap(), stray);
    assert!(!files.description.exists());
    // Once it is moved away, the start creates the development merchant.
    std::fs::remove_file(&files.key).unwrap();
    let created = start(dir.path()).await.unwrap();
    assert_eq!(created, serde_json::from_slice(&std::fs::read(&files.description).unwrap()).unwrap());
}
