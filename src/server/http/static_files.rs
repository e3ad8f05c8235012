//! The built files (`/pkg/`) and the files of `public/`, compressed once and served as stored. Beside each file
//! the site folder holds `<file>.br` (Brotli, quality 11) and `<file>.gz` (gzip, level 9), written after the
//! build (`customer-data-console compress-assets`, which the README's scripts run) and at the latest when the
//! server starts; a variant is kept only when it is smaller than the file. Requests get the best variant their
//! `Accept-Encoding` allows, with `Content-Encoding`, `Vary: Accept-Encoding` and a strong `ETag` per
//! representation (`If-None-Match` answers 304). Nothing here is compressed per request: these routes sit
//! outside the router's compression layer.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use sha2::{Digest, Sha256};
use tower_http::services::{ServeDir, ServeFile};

use crate::server::http::assets::{PKG_EXTENSIONS, PUBLIC_FILES};
use crate::server::sessions::hex;

/// The stored encodings: the `Content-Encoding` name and the file suffix.
pub const STORED_ENCODINGS: [(&str, &str); 2] = [("br", "br"), ("gzip", "gz")];

/// Brotli's densest setting; the files are compressed once, so the time it takes does not matter.
const BROTLI_QUALITY: u32 = 11;
/// Brotli's window: 4 MiB, more than the largest file.
const BROTLI_WINDOW_BITS: u32 = 22;

/// The files served from the site folder: the built wasm, JS and CSS that exist, and `public/`'s files.
fn served_files(site_root: &Path, output_name: &str) -> Vec<(String, PathBuf)> {
    let built = PKG_EXTENSIONS
        .iter()
        .map(|extension| format!("/pkg/{output_name}.{extension}"));
    let public = PUBLIC_FILES.iter().map(|file| (*file).to_owned());
    built
        .chain(public)
        .map(|url| {
            let path = site_root.join(&url[1..]);
            (url, path)
        })
        .filter(|(_, path)| path.is_file())
        .collect()
}

/// Writes the Brotli and gzip variants of every served file whose variants are missing or older than it.
/// Answers how many variants it wrote.
pub fn precompress_site(site_root: &Path, output_name: &str) -> std::io::Result<usize> {
    let mut written = 0;
    for (_, path) in served_files(site_root, output_name) {
        let modified = std::fs::metadata(&path)?.modified()?;
        let mut content = None;
        for (_, suffix) in STORED_ENCODINGS {
            let variant = variant_path(&path, suffix);
            let fresh = std::fs::metadata(&variant)
                .and_then(|meta| meta.modified())
                .is_ok_and(|at| at >= modified);
            if fresh {
                continue;
            }
            let original = match &content {
                Some(bytes) => bytes,
                None => content.insert(std::fs::read(&path)?),
            };
            let compressed = compress(original, suffix)?;
            if compressed.len() < original.len() {
                let partial = variant_path(&variant, "partial");
                std::fs::write(&partial, &compressed)?;
                std::fs::rename(&partial, &variant)?;
                written += 1;
            } else if variant.exists() {
                std::fs::remove_file(&variant)?;
            }
        }
    }
    Ok(written)
}

fn variant_path(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn compress(content: &[u8], suffix: &str) -> std::io::Result<Vec<u8>> {
    if suffix == "br" {
        let mut compressed = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(
                &mut compressed,
                4096,
                BROTLI_QUALITY,
                BROTLI_WINDOW_BITS,
            );
            writer.write_all(content)?;
        }
        Ok(compressed)
    } else {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(content)?;
        encoder.finish()
    }
}

/// Each served file's entity tag, by URL path: the first 8 bytes of its content's SHA-256, in hex. Read once,
/// at start (the files do not change while the server runs, but under `cargo leptos watch`, where no tag is
/// given and browsers revalidate by date).
#[derive(Clone, Default)]
pub struct EntityTags(Arc<HashMap<String, String>>);

impl EntityTags {
    /// The tags of the files in the site folder.
    pub fn read(site_root: &Path, output_name: &str) -> EntityTags {
        let tags = served_files(site_root, output_name)
            .into_iter()
            .filter_map(|(url, path)| {
                let content = std::fs::read(path).ok()?;
                Some((url, hex(&Sha256::digest(&content)[..8])))
            })
            .collect();
        EntityTags(Arc::new(tags))
    }

    /// The tag of the representation of `url` in `encoding` (`None`: not compressed), quoted as a header
    /// carries it: each encoding is its own representation, so it gets its own tag.
    fn of(&self, url: &str, encoding: Option<&str>) -> Option<String> {
        let tag = self.0.get(url)?;
        Some(match encoding {
            Some(encoding) => format!("\"{tag}-{encoding}\""),
            None => format!("\"{tag}\""),
        })
    }
}

/// The routes of the built files and `public/`'s files, each answered from its stored variants.
pub fn routes<S: Clone + Send + Sync + 'static>(site_root: &Path, tags: EntityTags) -> Router<S> {
    let pkg = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    let mut router = Router::new().nest_service("/pkg", pkg);
    for file in PUBLIC_FILES {
        let served = ServeFile::new(site_root.join(&file[1..]))
            .precompressed_br()
            .precompressed_gzip();
        router = router.route_service(file, served);
    }
    router.layer(middleware::from_fn_with_state(tags, representation_headers))
}

/// Adds `Vary: Accept-Encoding` and the representation's `ETag`, and answers 304 when the request's
/// `If-None-Match` names that tag.
async fn representation_headers(
    State(tags): State<EntityTags>,
    request: Request,
    next: Next,
) -> Response {
    let url = request.uri().path().to_owned();
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let Some(tag) = tags.of(&url, encoding.as_deref()) else {
        return response;
    };
    let Ok(tag_value) = HeaderValue::from_str(&tag) else {
        return response;
    };
    let matches = if_none_match
        .as_ref()
        .and_then(|value| value.to_str().ok())
        .is_some_and(|listed| listed.split(',').any(|candidate| candidate.trim() == tag));
    if matches {
        let mut not_modified = Response::new(Body::empty());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        let headers = not_modified.headers_mut();
        headers.insert(header::ETAG, tag_value);
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        return not_modified;
    }
    response.headers_mut().insert(header::ETAG, tag_value);
    response
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn site_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let site = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(site.path().join("pkg")).expect("pkg");
        for (name, content) in files {
            std::fs::write(site.path().join(name), content).expect("file");
        }
        site
    }

    #[test]
    fn each_file_gets_variants_that_decompress_to_it_once() {
        let wasm: Vec<u8> = (0..50_000u32)
            .flat_map(|n| (n % 251).to_le_bytes())
            .collect();
        let site = site_with(&[("pkg/app.wasm", &wasm), ("robots.txt", b"ok\n")]);
        assert_eq!(precompress_site(site.path(), "app").expect("compressed"), 2);
        let brotli_bytes = std::fs::read(site.path().join("pkg/app.wasm.br")).expect("br");
        let mut unpacked = Vec::new();
        brotli::Decompressor::new(brotli_bytes.as_slice(), 4096)
            .read_to_end(&mut unpacked)
            .expect("brotli");
        assert_eq!(unpacked, wasm);
        let gzip_bytes = std::fs::read(site.path().join("pkg/app.wasm.gz")).expect("gz");
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(gzip_bytes.as_slice())
            .read_to_end(&mut unpacked)
            .expect("gzip");
        assert_eq!(unpacked, wasm);
        for variant in ["robots.txt.br", "robots.txt.gz"] {
            assert!(
                !site.path().join(variant).exists(),
                "{variant}: a variant larger than its file is not kept"
            );
        }
        assert_eq!(
            precompress_site(site.path(), "app").expect("again"),
            0,
            "fresh variants are kept"
        );
    }

    #[test]
    fn tags_follow_the_content_and_differ_per_encoding() {
        let site = site_with(&[("pkg/app.css", b"body{}")]);
        let tags = EntityTags::read(site.path(), "app");
        let plain = tags.of("/pkg/app.css", None).expect("a tag");
        assert_eq!(plain.len(), 18);
        let brotli = tags.of("/pkg/app.css", Some("br")).expect("a tag");
        assert_ne!(plain, brotli);
        std::fs::write(site.path().join("pkg/app.css"), b"body{margin:0}").expect("file");
        assert_ne!(
            EntityTags::read(site.path(), "app").of("/pkg/app.css", None),
            Some(plain)
        );
        assert_eq!(tags.of("/pkg/other.css", None), None);
    }
}
