//! Every list operation as a [`futures_util::Stream`] of its items: the pages are requested one
//! after another as the stream is read, with offsets this crate computes (the documented `next`
//! link of the headless-import list is broken, `…/api/v1/api/v1/…`, and is never followed).
//!
//! | List | Paging | Stops when |
//! |---|---|---|
//! | [`Client::list_imports`] | `offset`/`limit` (at most 1000 a page) | a page is shorter than the page size, or `count` items were read |
//! | [`Client::list_uploads`] | `start`/`end`, the slice `[start, end)` | a page is shorter than the page size, or `total_num_uploads` were read |
//! | [`Client::list_schemas`], [`Client::list_sftp_credentials`], [`Client::list_sftp_connectors`] | none: one request | after it |

use crate::error::Error;
use crate::generated::ResponseValue;
use crate::{types, Client};
use futures_util::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The most headless imports Dromo returns in one page (`limit` ≤ 1000).
pub const MAX_IMPORTS_PAGE_SIZE: u32 = 1000;

/// The most uploads one `/uploads/` request returns (`end` defaults to, and is at most, 10 000).
pub const MAX_UPLOADS_PAGE_SIZE: u32 = 10_000;

/// One page: its items, and the total the server reported, if any.
struct Page<T> {
    items: Vec<T>,
    total: Option<u64>,
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>, Error>> + Send>>;

/// Requests the page of `size` items starting at `offset`.
type FetchPage<T> = fn(Client, u64, u64) -> PageFuture<T>;

/// The items of a list operation, page after page: a [`Stream`] of `Result<T, Error>`.
///
/// Nothing is requested until the stream is first polled. Each page request is retried by the
/// client's [`RetryPolicy`](crate::RetryPolicy); a failure that remains is yielded as an `Err`
/// and ends the stream.
///
/// ```no_run
/// use futures_util::TryStreamExt;
///
/// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
/// let mut imports = client.list_imports().page_size(500);
/// while let Some(import) = imports.try_next().await? {
///     println!("{:?} {:?}", import.id, import.status);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a list requests nothing until the stream is read"]
pub struct Pages<T> {
    client: Client,
    page_size: u64,
    max_page_size: u64,
    fetch: FetchPage<T>,
    items: Option<BoxStream<'static, Result<T, Error>>>,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("page_size", &self.page_size)
            .field("started", &self.items.is_some())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Pages<T> {
    fn new(client: &Client, default_size: u32, max_size: u32, fetch: FetchPage<T>) -> Self {
        Self {
            client: client.clone(),
            page_size: u64::from(default_size),
            max_page_size: u64::from(max_size),
            fetch,
            items: None,
        }
    }

    /// How many items each request asks for, kept between 1 and the operation's maximum
    /// ([`MAX_IMPORTS_PAGE_SIZE`], [`MAX_UPLOADS_PAGE_SIZE`]); lists without paging ignore it.
    /// Has no effect once the stream has been polled.
    ///
    /// ```
    /// # fn f(client: dromo_client::Client) {
    /// let imports = client.list_imports().page_size(5_000);
    /// assert_eq!(imports.page_size_used(), 1000);
    /// # }
    /// ```
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = u64::from(size).clamp(1, self.max_page_size);
        self
    }

    /// The page size the requests use.
    pub fn page_size_used(&self) -> u32 {
        u32::try_from(self.page_size).unwrap_or(u32::MAX)
    }

    fn start(&self) -> BoxStream<'static, Result<T, Error>> {
        let (client, size, fetch) = (self.client.clone(), self.page_size, self.fetch);
        stream::try_unfold(Some(0u64), move |next| {
            let client = client.clone();
            async move {
                let Some(offset) = next else {
                    return Ok::<_, Error>(None);
                };
                let page = fetch(client, offset, size).await?;
                let read = offset.saturating_add(page.items.len() as u64);
                let last = (page.items.len() as u64) < size
                    || page.total.is_some_and(|total| read >= total);
                let next = (!last).then(|| offset.saturating_add(size));
                Ok(Some((stream::iter(page.items.into_iter().map(Ok)), next)))
            }
        })
        .try_flatten()
        .boxed()
    }
}

impl<T: Send + 'static> Stream for Pages<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.items.is_none() {
            let items = self.start();
            self.items = Some(items);
        }
        match self.items.as_mut() {
            Some(items) => items.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }
}

/// A total reported as a JSON number, as a count.
fn count(total: Option<f64>) -> Option<u64> {
    // `as` saturates: a negative or NaN total is 0, a huge one u64::MAX.
    total.filter(|t| t.is_finite()).map(|t| t.max(0.0) as u64)
}

fn imports_page(client: Client, offset: u64, size: u64) -> PageFuture<types::HeadlessImport> {
    Box::pin(async move {
        let list = client
            .retry_policy()
            .run_bounded(
                "list imports",
                client.call_timeout(),
                None,
                Error::is_retryable,
                |_| async {
                    let sent = client
                        .api()
                        .list_headless_imports()
                        .offset(offset)
                        .limit(size)
                        .send()
                        .await;
                    sent.map(ResponseValue::into_inner)
                },
            )
            .await?;
        Ok(Page {
            items: list.results,
            total: count(list.count),
        })
    })
}

fn uploads_page(client: Client, start: u64, size: u64) -> PageFuture<types::Import> {
    Box::pin(async move {
        let end = start.saturating_add(size);
        let list = client
            .retry_policy()
            .run_bounded(
                "list uploads",
                client.call_timeout(),
                None,
                Error::is_retryable,
                |_| async {
                    // `start`/`end` are JSON numbers; page indexes stay far below 2^53.
                    let sent = client
                        .api()
                        .list_uploads()
                        .start(start as f64)
                        .end(end as f64)
                        .send()
                        .await;
                    sent.map(ResponseValue::into_inner)
                },
            )
            .await?;
        Ok(Page {
            items: list.data,
            total: count(list.total_num_uploads),
        })
    })
}

/// A list without paging: one request, all the items.
fn single_page<T>(items: Vec<T>) -> Page<T> {
    let total = Some(items.len() as u64);
    Page { items, total }
}

fn schemas_page(client: Client, _: u64, _: u64) -> PageFuture<types::ImportSchema> {
    Box::pin(async move {
        let items = client
            .retry_policy()
            .run_bounded(
                "list schemas",
                client.call_timeout(),
                None,
                Error::is_retryable,
                |_| async {
                    client
                        .api()
                        .list_import_schemas()
                        .send()
                        .await
                        .map(ResponseValue::into_inner)
                },
            )
            .await?;
        Ok(single_page(items))
    })
}

fn sftp_credentials_page(client: Client, _: u64, _: u64) -> PageFuture<types::SftpCredential> {
    Box::pin(async move {
        let list = client
            .retry_policy()
            .run_bounded(
                "list SFTP credentials",
                client.call_timeout(),
                None,
                Error::is_retryable,
                |_| async {
                    client
                        .api()
                        .list_sftp_credentials()
                        .send()
                        .await
                        .map(ResponseValue::into_inner)
                },
            )
            .await?;
        Ok(single_page(list.results))
    })
}

fn sftp_connectors_page(client: Client, _: u64, _: u64) -> PageFuture<types::SftpConnector> {
    Box::pin(async move {
        let list = client
            .retry_policy()
            .run_bounded(
                "list SFTP connectors",
                client.call_timeout(),
                None,
                Error::is_retryable,
                |_| async {
                    client
                        .api()
                        .list_sftp_connectors()
                        .send()
                        .await
                        .map(ResponseValue::into_inner)
                },
            )
            .await?;
        Ok(single_page(list.results))
    })
}

impl Client {
    /// Every headless import, newest first (`GET /headless/imports/?offset&limit`), 1000 a page
    /// unless [`Pages::page_size`] says otherwise.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    ///
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let imports: Vec<_> = client.list_imports().try_collect().await?;
    /// println!("{} imports", imports.len());
    /// # Ok(()) }
    /// ```
    pub fn list_imports(&self) -> Pages<types::HeadlessImport> {
        Pages::new(
            self,
            MAX_IMPORTS_PAGE_SIZE,
            MAX_IMPORTS_PAGE_SIZE,
            imports_page,
        )
    }

    /// Every upload (completed import), newest first (`GET /uploads/?start&end`), 1000 a page
    /// unless [`Pages::page_size`] says otherwise.
    pub fn list_uploads(&self) -> Pages<types::Import> {
        Pages::new(self, 1000, MAX_UPLOADS_PAGE_SIZE, uploads_page)
    }

    /// Every saved import schema (`GET /schemas/`: one request, the whole list).
    pub fn list_schemas(&self) -> Pages<types::ImportSchema> {
        Pages::new(self, 1, 1, schemas_page)
    }

    /// Every set of SFTP credentials (`GET /headless/sftp/credentials/`: one request).
    pub fn list_sftp_credentials(&self) -> Pages<types::SftpCredential> {
        Pages::new(self, 1, 1, sftp_credentials_page)
    }

    /// Every SFTP connector (`GET /headless/sftp/connectors/`: one request).
    pub fn list_sftp_connectors(&self) -> Pages<types::SftpConnector> {
        Pages::new(self, 1, 1, sftp_connectors_page)
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn totals_become_counts() {
        assert_eq!(count(Some(2501.0)), Some(2501));
        assert_eq!(count(Some(-3.0)), Some(0));
        assert_eq!(count(Some(f64::NAN)), None);
        assert_eq!(count(None), None);
    }
}
