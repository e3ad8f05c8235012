//! The built files and `public/`: where they are, the release's asset version (a digest of the wasm, JS and
//! CSS that versions their URLs), and how long a browser may keep each answer.

use std::net::SocketAddr;

use leptos::config::LeptosOptions;

/// Leptos options for a site folder and address, without reading Cargo.toml (the built binary runs alone).
pub fn leptos_options(site_root: &str, listen: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(
            std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "customer-data-console".into()),
        )
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(listen)
        .build()
}

/// The extensions of the built files a page loads from `/pkg/`.
pub const PKG_EXTENSIONS: [&str; 3] = ["wasm", "js", "css"];

/// A digest of the wasm, JS and CSS in the site folder, read once at start. Pages load them as
/// `/pkg/<name>.<ext>?v=<digest>`, answered as cacheable for a year: a browser fetches them once per release
/// and never asks again, and a release that changes any of them changes every URL, so no browser runs last
/// release's wasm against this release's pages. `None` when the folder holds none of them. The digest is
/// read once, so it is not used under `cargo leptos watch` (`LEPTOS_WATCH=true`), which rebuilds the files
/// while the server runs: there the files are unversioned and always checked.
pub fn asset_version(site_root: &str, output_name: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    let mut found = false;
    for extension in PKG_EXTENSIONS {
        if let Ok(bytes) = std::fs::read(format!("{site_root}/pkg/{output_name}.{extension}")) {
            digest.update(extension.as_bytes());
            digest.update((bytes.len() as u64).to_le_bytes());
            digest.update(&bytes);
            found = true;
        }
    }
    found.then(|| crate::server::sessions::hex(&digest.finalize()[..8]))
}

/// The files of `public/`, served from the site folder's root.
pub const PUBLIC_FILES: [&str; 2] = ["/favicon.svg", "/robots.txt"];

/// How long a browser may keep an answer: the release's versioned files for a year, the files of `public/` for
/// a day, the receipts' public keys for five minutes, `/pkg/` files asked for without the current version only
/// after checking with the server, and nothing else at all (pages and answers hold customer data).
pub fn cache_control(path: &str, query: Option<&str>, version: Option<&str>) -> &'static str {
    if path.starts_with("/pkg/") {
        let current = version.is_some_and(|v| query.and_then(|q| q.strip_prefix("v=")) == Some(v));
        if current {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }
    } else if PUBLIC_FILES.contains(&path) {
        "public, max-age=86400"
    } else if path == super::RECEIPT_KEYS_PATH {
        // A rotation reaches verifiers within minutes; a retired key never leaves the set.
        "public, max-age=300"
    } else {
        "no-store"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_files_are_kept_a_year_and_pages_never() {
        let year = "public, max-age=31536000, immutable";
        let v = Some("0123abcd0123abcd");
        assert_eq!(
            cache_control("/pkg/c.wasm", Some("v=0123abcd0123abcd"), v),
            year
        );
        assert_eq!(
            cache_control("/pkg/c.js", Some("v=0123abcd0123abcd"), v),
            year
        );
        assert_eq!(cache_control("/pkg/c.js", Some("v=old"), v), "no-cache");
        assert_eq!(cache_control("/pkg/c.js", None, v), "no-cache");
        assert_eq!(cache_control("/pkg/c.js", Some("v="), None), "no-cache");
        assert_eq!(
            cache_control("/favicon.svg", None, v),
            "public, max-age=86400"
        );
        assert_eq!(cache_control("/customers/1", None, v), "no-store");
        assert_eq!(
            cache_control("/api/customers/search", Some("v=0123abcd0123abcd"), v),
            "no-store"
        );
    }

    #[test]
    fn the_public_file_list_is_what_public_holds() {
        let mut listed: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/public"))
                .unwrap()
                .map(|entry| format!("/{}", entry.unwrap().file_name().to_string_lossy()))
                .collect();
        listed.sort();
        let mut expected: Vec<&str> = PUBLIC_FILES.to_vec();
        expected.sort();
        assert_eq!(listed, expected);
    }

    #[test]
    fn the_asset_version_follows_the_files_content() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path().to_str().unwrap();
        assert_eq!(asset_version(root, "app"), None);
        std::fs::create_dir(site.path().join("pkg")).unwrap();
        std::fs::write(site.path().join("pkg/app.wasm"), b"wasm one").unwrap();
        std::fs::write(site.path().join("pkg/app.js"), b"js").unwrap();
        let first = asset_version(root, "app").unwrap();
        assert_eq!(first.len(), 16);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(asset_version(root, "app").as_deref(), Some(first.as_str()));
        std::fs::write(site.path().join("pkg/app.wasm"), b"wasm two").unwrap();
        let second = asset_version(root, "app").unwrap();
        assert_ne!(first, second);
        std::fs::write(site.path().join("pkg/app.css"), b"css").unwrap();
        assert_ne!(asset_version(root, "app").unwrap(), second);
    }
}
