//! Where uploaded files and analysis results live: a directory under the data directory by
//! default, or an S3-compatible bucket, both through the `object_store` crate.
//!
//! Files are written with multipart uploads, so a file is never held whole in memory, and an
//! upload that fails or is abandoned is aborted: nothing is left behind under its key.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncWriteExt;

use crate::config::ingest::StorageConfig;

/// Bytes buffered per multipart part (S3 wants at least 5 MiB for every part but the last).
const PART_BYTES: usize = 8 << 20;
/// Parts in flight at once while writing.
const PARTS_IN_FLIGHT: usize = 2;

/// Errors from storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The store failed or could not be reached.
    #[error("object storage: {0}")]
    Store(#[from] object_store::Error),
    /// A local file could not be written or read.
    #[error("local storage: {0}")]
    Io(#[from] std::io::Error),
}

/// The object store, cheap to clone.
#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// For the local backend, its root: files can then be read in place.
    local_root: Option<PathBuf>,
    /// `local` or `s3`.
    pub backend: &'static str,
}

impl Storage {
    /// Opens the configured store (creating the local directory if needed).
    pub fn open(config: &StorageConfig) -> Result<Self, StorageError> {
        match config {
            StorageConfig::Local(dir) => {
                std::fs::create_dir_all(dir)?;
                let root = dir.canonicalize()?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&root)?
                    .with_automatic_cleanup(true);
                Ok(Self {
                    store: Arc::new(store),
                    local_root: Some(root),
                    backend: "local",
                })
            }
            StorageConfig::S3(s3) => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                Ok(Self {
                    store: Arc::new(builder.build()?),
                    local_root: None,
                    backend: "s3",
                })
            }
        }
    }

    /// Starts writing `key`.
    pub async fn writer(&self, key: &str) -> Result<Writer, StorageError> {
        let upload = self.store.put_multipart(&Key::from(key)).await?;
        Ok(Writer {
            inner: Some(WriteMultipart::new_with_chunk_size(upload, PART_BYTES)),
        })
    }

    /// Stores small `bytes` at `key` in one request.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&Key::from(key), bytes.into()).await?;
        Ok(())
    }

    /// Reads all of a small object.
    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        Ok(self.store.get(&Key::from(key)).await?.bytes().await?)
    }

    /// Deletes `key`; deleting what is not there succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&Key::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self.store.head(&Key::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A blocking reader of `key`'s bytes for code on a blocking thread: the stored file itself
    /// on the local backend, else the object streamed as it is read (bounded memory). Create
    /// it on the runtime and read it inside `spawn_blocking`. `None` when nothing is stored
    /// under `key`.
    pub async fn blocking_reader(
        &self,
        key: &str,
    ) -> Result<Option<Box<dyn std::io::Read + Send>>, StorageError> {
        if let Some(root) = &self.local_root {
            return match std::fs::File::open(root.join(key)) {
                Ok(file) => Ok(Some(Box::new(file))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            };
        }
        let stream = match self.store.get(&Key::from(key)).await {
            Ok(got) => got
                .into_stream()
                .map(|chunk| chunk.map_err(std::io::Error::other)),
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let reader = tokio_util::io::StreamReader::new(stream);
        Ok(Some(Box::new(tokio_util::io::SyncIoBridge::new(reader))))
    }

    /// A local file holding `key`'s bytes: the stored file itself on the local backend, else a
    /// copy streamed into `scratch` (bounded memory). The analysis engine reads files twice, so
    /// it needs one it can reopen.
    pub async fn local_file(
        &self,
        key: &str,
        scratch: &std::path::Path,
    ) -> Result<PathBuf, StorageError> {
        if let Some(root) = &self.local_root {
            return Ok(root.join(key));
        }
        let mut stream = self.store.get(&Key::from(key)).await?.into_stream();
        let mut file = tokio::fs::File::create(scratch).await?;
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        Ok(scratch.to_owned())
    }
}

/// An object being written. One dropped without [`Writer::finish`] (its request was
/// abandoned) is aborted in the background: nothing is left behind.
pub struct Writer {
    inner: Option<WriteMultipart>,
}

impl Writer {
    fn inner(&mut self) -> &mut WriteMultipart {
        self.inner
            .as_mut()
            .expect("a writer is used only until it finishes or aborts")
    }

    /// Appends `bytes`, waiting while too many parts are in flight.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.inner().wait_for_capacity(PARTS_IN_FLIGHT).await?;
        self.inner().write(bytes);
        Ok(())
    }

    /// Completes the object.
    pub async fn finish(mut self) -> Result<(), StorageError> {
        if let Some(inner) = self.inner.take() {
            inner.finish().await?;
        }
        Ok(())
    }

    /// Abandons the object and its parts.
    pub async fn abort(mut self) -> Result<(), StorageError> {
        if let Some(inner) = self.inner.take() {
            inner.abort().await?;
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(e) = inner.abort().await {
                    tracing::warn!(error = %e, "could not abort an abandoned upload");
                }
            });
        }
    }
}
